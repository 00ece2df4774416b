"""Fakes: small working implementations of the service's dependencies, kept in memory.

Unlike a mock, a fake *behaves*: the repository only returns products that exist, and it
keeps a snapshot of what was committed, so a test can ask what was durable and when. That is
why the unit tier can trust it, and why the integration tests run the same scenarios against
the real SqlRepository to keep the two honest.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from orders.domain import Coupon, Order, Product
from orders.payments import PaymentError


class FakeRepository:
    def __init__(self, products: Iterable[Product] = (), coupons: Iterable[Coupon] = ()) -> None:
        self.products = {p.sku: p for p in products}
        self.coupons = {c.code: c for c in coupons}
        self.orders: dict[str, Order] = {}
        self.commits = 0
        self.committed: dict[str, Order] = {}  # snapshot at the last commit

    async def add_product(self, product: Product) -> None:
        self.products[product.sku] = product

    async def list_products(self) -> list[Product]:
        return sorted(self.products.values(), key=lambda p: p.sku)

    async def lock_products(self, skus: Iterable[str]) -> dict[str, Product]:
        return {sku: self.products[sku] for sku in sorted(set(skus)) if sku in self.products}

    async def set_stock(self, levels: Mapping[str, int]) -> None:
        for sku, stock in levels.items():
            self.products[sku] = replace(self.products[sku], stock=stock)

    async def add_coupon(self, coupon: Coupon) -> None:
        self.coupons[coupon.code] = coupon

    async def get_coupon(self, code: str) -> Coupon | None:
        return self.coupons.get(code)

    async def add_order(self, order: Order) -> None:
        self.orders[order.id] = copy.deepcopy(order)

    async def get_order(self, order_id: str) -> Order | None:
        found = self.orders.get(order_id)
        return copy.deepcopy(found) if found else None

    async def save_order(self, order: Order) -> None:
        if order.id not in self.orders:
            raise LookupError(f"order {order.id} was never added")
        self.orders[order.id] = copy.deepcopy(order)

    async def commit(self) -> None:
        self.commits += 1
        self.committed = copy.deepcopy(self.orders)


class FakePayments:
    """Answers from a script: each entry is a charge id to return or an exception to raise."""

    def __init__(self, *script: str | PaymentError) -> None:
        self.script = list(script)
        self.calls: list[dict[str, object]] = []

    async def charge(self, *, amount_cents: int, customer: str, idempotency_key: str) -> str:
        self.calls.append(
            {"amount_cents": amount_cents, "customer": customer, "key": idempotency_key}
        )
        outcome = self.script.pop(0) if self.script else f"ch_{len(self.calls)}"
        if isinstance(outcome, PaymentError):
            raise outcome
        return outcome


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


class RecordingNotifier:
    def __init__(self) -> None:
        self.paid: list[str] = []

    async def order_paid(self, order: Order) -> None:
        self.paid.append(order.id)
