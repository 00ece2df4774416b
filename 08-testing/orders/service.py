"""Use cases: place an order, pay for it. The only place where the adapters meet the rules.

Everything the service touches comes in through ``__init__``; that is what makes every test
double in this lesson possible without patching module globals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orders.clock import Clock
from orders.domain import (
    DomainError,
    LineItem,
    Order,
    OrderStatus,
    price_order,
    release_stock,
    reserve_stock,
)
from orders.notifier import Notifier
from orders.payments import PaymentDeclined, PaymentError, PaymentGateway
from orders.repository import OrderRepository


class UnknownProduct(DomainError):
    code = "unknown_product"


class UnknownCoupon(DomainError):
    code = "unknown_coupon"


class OrderNotFound(DomainError):
    code = "order_not_found"


class NotPayable(DomainError):
    code = "not_payable"


@dataclass(frozen=True)
class OrderRequest:
    customer_email: str
    items: Sequence[tuple[str, int]]  # (sku, quantity)
    coupon_code: str | None = None


def new_order_id() -> str:
    return str(uuid.uuid4())


class OrderService:
    def __init__(
        self,
        repo: OrderRepository,
        payments: PaymentGateway,
        clock: Clock,
        notifier: Notifier,
        new_id: Callable[[], str] = new_order_id,
    ) -> None:
        self._repo = repo
        self._payments = payments
        self._clock = clock
        self._notifier = notifier
        self._new_id = new_id

    async def place_order(self, request: OrderRequest) -> Order:
        products = await self._repo.lock_products(sku for sku, _ in request.items)
        missing = sorted({sku for sku, _ in request.items if sku not in products})
        if missing:
            raise UnknownProduct(f"unknown product(s): {', '.join(missing)}")
        lines = [LineItem(sku, qty, products[sku].price_cents) for sku, qty in request.items]
        coupon = None
        if request.coupon_code:
            coupon = await self._repo.get_coupon(request.coupon_code)
            if coupon is None:
                raise UnknownCoupon(f"unknown coupon: {request.coupon_code}")
        now = self._clock.now()
        quote = price_order(lines, coupon, now)
        stock_left = reserve_stock(products, lines)

        order = Order(self._new_id(), request.customer_email, lines, quote, created_at=now)
        await self._repo.add_order(order)
        await self._repo.set_stock(stock_left)
        # Order and reservation are durable *before* any money moves. If the process dies
        # during the charge, the order is still there in pending_payment, never lost.
        await self._repo.commit()
        return await self._charge(order)

    async def pay(self, order_id: str) -> Order:
        """Retry the payment of an order whose provider was unavailable the first time."""
        order = await self._repo.get_order(order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        if order.status is not OrderStatus.PENDING_PAYMENT:
            raise NotPayable(f"order {order_id} is {order.status.value}")
        return await self._charge(order)

    async def _charge(self, order: Order) -> Order:
        try:
            order.charge_id = await self._payments.charge(
                amount_cents=order.quote.total_cents,
                customer=order.customer_email,
                idempotency_key=order.id,  # a retry can never charge twice
            )
        except PaymentDeclined as exc:
            exc.order_id = order.id
            # Final answer: record why and give the reserved units back.
            order.status = OrderStatus.PAYMENT_FAILED
            order.failure_reason = str(exc)
            products = await self._repo.lock_products(line.sku for line in order.lines)
            stock = {sku: product.stock for sku, product in products.items()}
            await self._repo.set_stock(release_stock(stock, order.lines))
            await self._repo.save_order(order)
            await self._repo.commit()
            raise
        except PaymentError as exc:
            # Unavailable or rejected: the order stays pending_payment with its stock held,
            # and the caller gets its id to retry with pay() once the provider is back.
            exc.order_id = order.id
            raise
        order.status = OrderStatus.PAID
        await self._repo.save_order(order)
        await self._repo.commit()
        await self._notifier.order_paid(order)
        return order
