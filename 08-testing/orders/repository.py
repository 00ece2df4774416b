"""Persistence behind a narrow interface.

``OrderRepository`` is what the service depends on. ``SqlRepository`` is the real adapter;
the tests also have a fake one (tests/fakes.py) that keeps everything in dicts. Both must
behave the same, which is what the integration tests check on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.db import CouponRow, OrderLineRow, OrderRow, ProductRow
from orders.domain import Coupon, LineItem, Order, OrderStatus, Product, Quote


class OrderRepository(Protocol):
    async def add_product(self, product: Product) -> None:
        """Stage a new product (flushed, not committed)."""

    async def list_products(self) -> list[Product]:
        """Every product, ordered by SKU."""

    async def lock_products(self, skus: Iterable[str]) -> dict[str, Product]:
        """The products with these SKUs, locked until commit; unknown SKUs are absent."""

    async def set_stock(self, levels: Mapping[str, int]) -> None:
        """Overwrite stock levels per SKU."""

    async def add_coupon(self, coupon: Coupon) -> None:
        """Stage a new coupon."""

    async def get_coupon(self, code: str) -> Coupon | None:
        """The coupon with this code, or None."""

    async def add_order(self, order: Order) -> None:
        """Stage a new order with its lines."""

    async def get_order(self, order_id: str) -> Order | None:
        """The order with this id, or None."""

    async def save_order(self, order: Order) -> None:
        """Write back an order's status, charge and failure reason."""

    async def commit(self) -> None:
        """Make everything staged so far durable."""


def _aware(moment: datetime) -> datetime:
    # SQLite has no timezone type and hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _product(row: ProductRow) -> Product:
    return Product(sku=row.sku, name=row.name, price_cents=row.price_cents, stock=row.stock)


class SqlRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_product(self, product: Product) -> None:
        self._session.add(
            ProductRow(
                sku=product.sku,
                name=product.name,
                price_cents=product.price_cents,
                stock=product.stock,
            )
        )
        await self._session.flush()

    async def list_products(self) -> list[Product]:
        rows = await self._session.scalars(select(ProductRow).order_by(ProductRow.sku))
        return [_product(row) for row in rows]

    async def lock_products(self, skus: Iterable[str]) -> dict[str, Product]:
        # FOR UPDATE: two concurrent orders for the last unit must queue up here, or both
        # would read stock=1 and both succeed. (SQLite ignores it; it serialises writers.)
        # Ordered by SKU so two orders always lock rows in the same order: no deadlock.
        query = (
            select(ProductRow)
            .where(ProductRow.sku.in_(set(skus)))
            .order_by(ProductRow.sku)
            .with_for_update()
        )
        return {row.sku: _product(row) for row in await self._session.scalars(query)}

    async def set_stock(self, levels: Mapping[str, int]) -> None:
        for sku, stock in levels.items():
            await self._session.execute(
                update(ProductRow).where(ProductRow.sku == sku).values(stock=stock)
            )

    async def add_coupon(self, coupon: Coupon) -> None:
        self._session.add(
            CouponRow(
                code=coupon.code,
                percent_off=coupon.percent_off,
                expires_at=coupon.expires_at,
                min_subtotal_cents=coupon.min_subtotal_cents,
            )
        )
        await self._session.flush()

    async def get_coupon(self, code: str) -> Coupon | None:
        row = await self._session.get(CouponRow, code)
        if row is None:
            return None
        return Coupon(row.code, row.percent_off, _aware(row.expires_at), row.min_subtotal_cents)

    async def add_order(self, order: Order) -> None:
        row = OrderRow(id=order.id, created_at=order.created_at)
        row.lines = [
            OrderLineRow(
                position=position,
                sku=line.sku,
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
            )
            for position, line in enumerate(order.lines)
        ]
        self._copy_state(order, row)
        self._session.add(row)
        await self._session.flush()

    async def get_order(self, order_id: str) -> Order | None:
        row = await self._session.get(OrderRow, order_id)
        if row is None:
            return None
        return Order(
            id=row.id,
            customer_email=row.customer_email,
            lines=[LineItem(li.sku, li.quantity, li.unit_price_cents) for li in row.lines],
            quote=Quote(row.subtotal_cents, row.discount_cents, row.shipping_cents),
            created_at=_aware(row.created_at),
            status=OrderStatus(row.status),
            charge_id=row.charge_id,
            failure_reason=row.failure_reason,
        )

    async def save_order(self, order: Order) -> None:
        row = await self._session.get(OrderRow, order.id)
        if row is None:
            raise LookupError(f"order {order.id} was never added")
        self._copy_state(order, row)
        await self._session.flush()

    async def commit(self) -> None:
        await self._session.commit()

    @staticmethod
    def _copy_state(order: Order, row: OrderRow) -> None:
        row.customer_email = order.customer_email
        row.status = order.status.value
        row.subtotal_cents = order.quote.subtotal_cents
        row.discount_cents = order.quote.discount_cents
        row.shipping_cents = order.quote.shipping_cents
        row.charge_id = order.charge_id
        row.failure_reason = order.failure_reason
