"""One contract, two implementations: the fake repository must behave like the real one.

``repository`` is parametrized *indirectly*: the test names the kind ("fake", "sqlite",
"postgres") and the fixture builds it. If the fake drifts from SqlRepository, these tests
catch it, and the unit tier's trust in the fake stays earned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.pool import NullPool

from orders.db import create_engine
from orders.domain import OrderStatus, Product
from orders.payments import PaymentDeclined
from orders.repository import OrderRepository, SqlRepository
from orders.service import OrderRequest, OrderService
from testkit.dbtools import rollback_session
from testkit.fakes import FakePayments, FakeRepository, RecordingNotifier


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def repository(request: pytest.FixtureRequest) -> AsyncIterator[OrderRepository]:
    if request.param == "fake":
        yield FakeRepository()
        return
    engine = create_engine(request.getfixturevalue(f"{request.param}_url"), poolclass=NullPool)
    try:
        async with rollback_session(engine) as session:
            yield SqlRepository(session)
    finally:
        await engine.dispose()


both = pytest.mark.parametrize(
    "repository",
    ["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)


@both
async def test_a_paid_order_is_stored_and_the_stock_taken(repository: OrderRepository) -> None:
    await repository.add_product(Product("A", "Apple", 2_00, 3))
    service = OrderService(repository, FakePayments(), FixedClock(), RecordingNotifier())

    order = await service.place_order(OrderRequest("ada@example.com", [("A", 2)]))

    assert await repository.get_order(order.id) == order
    assert [p.stock for p in await repository.list_products()] == [1]


@both
async def test_a_declined_order_is_kept_and_the_stock_returned(
    repository: OrderRepository,
) -> None:
    await repository.add_product(Product("A", "Apple", 2_00, 3))
    payments = FakePayments(PaymentDeclined("card declined"))
    service = OrderService(repository, payments, FixedClock(), RecordingNotifier())

    with pytest.raises(PaymentDeclined) as caught:
        await service.place_order(OrderRequest("ada@example.com", [("A", 2)]))

    stored = await repository.get_order(str(caught.value.order_id))
    assert stored is not None and stored.status is OrderStatus.PAYMENT_FAILED
    assert [p.stock for p in await repository.list_products()] == [3]
