"""Unit tier: the service wired to fakes. No I/O, so these run in milliseconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from orders.domain import Coupon, Product
from orders.service import OrderService
from testkit.fakes import FakeClock, FakePayments, FakeRepository, RecordingNotifier

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MakeProduct = Callable[..., Product]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def make_product() -> MakeProduct:
    """A factory fixture: each call builds a valid product, tests override only what matters."""
    numbers = count(1)

    def make(*, sku: str | None = None, price_cents: int = 10_00, stock: int = 10) -> Product:
        n = next(numbers)
        return Product(sku or f"SKU-{n}", f"Product {n}", price_cents, stock)

    return make


@pytest.fixture
def repo(make_product: MakeProduct) -> FakeRepository:
    coupons = [
        Coupon("TEN", 10, expires_at=NOW + timedelta(days=1)),
        Coupon("OLD", 10, expires_at=NOW - timedelta(days=1)),
    ]
    products = [
        make_product(sku="MUG", price_cents=9_50, stock=5),
        make_product(sku="BOOK", price_cents=40_00, stock=2),
    ]
    return FakeRepository(products, coupons)


@pytest.fixture
def payments() -> FakePayments:
    return FakePayments()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def service(
    repo: FakeRepository, payments: FakePayments, clock: FakeClock, notifier: RecordingNotifier
) -> OrderService:
    ids = count(1)
    return OrderService(repo, payments, clock, notifier, new_id=lambda: f"order-{next(ids)}")
