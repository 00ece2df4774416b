"""The SQL adapter round-trips the domain objects, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from orders.domain import Coupon, LineItem, Order, OrderStatus, Product, Quote
from orders.repository import SqlRepository

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def an_order(order_id: str = "o-1") -> Order:
    lines = [LineItem("B", 2, 3_00), LineItem("A", 1, 1_00)]
    return Order(order_id, "ada@example.com", lines, Quote(7_00, 35, 4_99), WHEN)


@pytest.fixture
async def stocked(sql_repo: SqlRepository) -> SqlRepository:
    for product in (Product("A", "Apple", 1_00, 5), Product("B", "Banana", 3_00, 7)):
        await sql_repo.add_product(product)
    return sql_repo


async def test_products_round_trip_sorted_by_sku(sql_repo: SqlRepository) -> None:
    await sql_repo.add_product(Product("Z", "Zed", 2_50, 1))
    await sql_repo.add_product(Product("M", "Em", 1_00, 0))
    assert await sql_repo.list_products() == [
        Product("M", "Em", 1_00, 0),
        Product("Z", "Zed", 2_50, 1),
    ]


async def test_lock_products_returns_only_known_skus(stocked: SqlRepository) -> None:
    found = await stocked.lock_products(["A", "NOPE", "A"])
    assert found == {"A": Product("A", "Apple", 1_00, 5)}


async def test_set_stock_overwrites_levels(stocked: SqlRepository) -> None:
    await stocked.set_stock({"A": 0, "B": 9})
    assert [p.stock for p in await stocked.list_products()] == [0, 9]


async def test_a_duplicate_sku_is_refused_by_the_database(stocked: SqlRepository) -> None:
    with pytest.raises(IntegrityError):
        await stocked.add_product(Product("A", "Another apple", 1, 1))


async def test_coupons_come_back_timezone_aware(sql_repo: SqlRepository) -> None:
    await sql_repo.add_coupon(Coupon("TEN", 10, WHEN, min_subtotal_cents=20_00))
    assert await sql_repo.get_coupon("TEN") == Coupon("TEN", 10, WHEN, 20_00)
    assert await sql_repo.get_coupon("NONE") is None


async def test_an_order_round_trips_with_its_lines_in_order(stocked: SqlRepository) -> None:
    await stocked.add_order(an_order())
    await stocked.commit()
    assert await stocked.get_order("o-1") == an_order()
    assert await stocked.get_order("o-2") is None


async def test_save_order_writes_back_the_outcome(stocked: SqlRepository) -> None:
    order = an_order()
    await stocked.add_order(order)
    order.status, order.failure_reason = OrderStatus.PAYMENT_FAILED, "card declined"
    await stocked.save_order(order)
    await stocked.commit()
    loaded = await stocked.get_order(order.id)
    assert loaded is not None
    assert (loaded.status, loaded.failure_reason) == (OrderStatus.PAYMENT_FAILED, "card declined")


async def test_saving_an_order_that_was_never_added_is_an_error(sql_repo: SqlRepository) -> None:
    with pytest.raises(LookupError, match="never added"):
        await sql_repo.save_order(an_order("ghost"))
