"""select() queries, their Result shapes, and why keyset pagination wins."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from demo.seed import seed_products
from shop import queries
from shop.models import Order, Product
from shop.repository import SqlAlchemyShopRepository
from shop.services import place_order, register_customer


@pytest.fixture
def orders(session_factory: sessionmaker[Session], catalog: dict[str, int]) -> None:
    """Ada: 18900 + 2*5900 = 30700 and 4*900 = 3600; Bob: 15900; Bob's second order is
    cancelled (32900) and must not count; Carol has none."""
    with session_factory.begin() as session:
        repo = SqlAlchemyShopRepository(session)
        register_customer(repo, "carol@example.test", "Carol")
        place_order(repo, "ada@example.test", {"TENT-2P": 1, "STOVE-GAS": 2})
        place_order(repo, "ada@example.test", {"MUG": 4})
        place_order(repo, "bob@example.test", {"ROPE-60": 1})
        cancelled = place_order(repo, "bob@example.test", {"TENT-4P": 1})
        session.flush()
        session.execute(update(Order).where(Order.id == cancelled.id).values(status="cancelled"))


def test_revenue_groups_filters_and_orders(
    session_factory: sessionmaker[Session], orders: None
) -> None:
    with session_factory() as session:
        rows = queries.revenue_by_customer(session)
        assert [tuple(r) for r in rows] == [
            ("ada@example.test", 34300),
            ("bob@example.test", 15900),
        ]
        email, cents = rows[0]  # Rows unpack like tuples
        assert (email, cents) == ("ada@example.test", 34300)
        assert [r.email for r in queries.revenue_by_customer(session, min_cents=20000)] == [
            "ada@example.test"
        ]


def test_not_exists_finds_customers_without_orders(
    session_factory: sessionmaker[Session], orders: None
) -> None:
    with session_factory() as session:
        found = queries.customers_without_orders(session)
        assert [c.email for c in found] == ["carol@example.test"]


def test_scalar_subquery_average(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        prices = list(session.scalars(select(Product.price_cents)))
        average = sum(prices) / len(prices)
        above = queries.products_above_average_price(session)
        assert above and all(p.price_cents > average for p in above)
        assert len(above) == sum(1 for p in prices if p > average)


def test_order_totals_come_back_as_mappings(
    session_factory: sessionmaker[Session], orders: None
) -> None:
    with session_factory() as session:
        rows = queries.order_totals(session)
        assert [dict(r) for r in rows][:2] == [
            {"order_id": 1, "email": "ada@example.test", "total_cents": 30700, "line_count": 2},
            {"order_id": 2, "email": "ada@example.test", "total_cents": 3600, "line_count": 1},
        ]
        assert [r["total_cents"] for r in rows] == [30700, 3600, 15900, 32900]


def test_recursive_cte_walks_the_tree(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        tree = [tuple(r) for r in queries.category_subtree(session, "Outdoors")]
        assert tree == [
            ("Outdoors", 0),
            ("Camping", 1),
            ("Climbing", 1),
            ("Stoves", 2),
            ("Tents", 2),
        ]
        assert [tuple(r) for r in queries.category_subtree(session, "Kitchen")] == [("Kitchen", 0)]
        assert queries.category_subtree(session, "Nope") == []


def _walk_keyset(session: Session, size: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while page := queries.products_page_keyset(session, cursor, size):
        seen += [p.sku for p in page]
        cursor = queries.keyset_cursor(page)
    return seen


def test_both_paginations_cover_every_product_once(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        by_offset = [
            p.sku for page in range(3) for p in queries.products_page_offset(session, page, 5)
        ]
        expected = list(
            session.scalars(select(Product.sku).order_by(Product.price_cents, Product.id))
        )
        assert by_offset == expected
        assert _walk_keyset(session, 5) == expected
        assert len(set(expected)) == 12


def test_an_insert_between_pages_breaks_offset_but_not_keyset(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        first = queries.products_page_offset(session, 0, 5)
        cursor = queries.keyset_cursor(first)
        # Someone adds a cheap product while the client reads page 1.
        session.add(Product(sku="STICKER", name="Sticker", price_cents=100, stock=1))
        session.flush()
        offset_second = queries.products_page_offset(session, 1, 5)
        keyset_second = queries.products_page_keyset(session, cursor, 5)
        # OFFSET shifted: the last item of page 1 shows up again on page 2.
        assert offset_second[0].sku == first[-1].sku
        # Keyset continues right after what the client saw.
        assert not {p.sku for p in keyset_second} & {p.sku for p in first}
        assert keyset_second[0].price_cents >= first[-1].price_cents


def test_a_keyset_page_is_an_index_seek_on_price_and_id(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    # Given a table big enough that reading it all costs something (on a dozen rows
    # PostgreSQL rightly prefers a sequential scan), with fresh planner statistics.
    with session_factory.begin() as session:
        seed_products(session, 5000)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE shop_products")
    with session_factory() as session:
        cursor = queries.keyset_cursor(queries.products_page_offset(session, 150, 20))
        assert cursor is not None
        # When the database plans the page after row 3,000...
        plan = "\n".join(queries.explain(session, queries.keyset_page_statement(cursor, 20)))
    # ...then it seeks into the (price_cents, id) index instead of scanning and sorting.
    if engine.dialect.name == "sqlite":
        assert "SEARCH shop_products USING INDEX ix_shop_products_price_cents_id" in plan, plan
    else:
        assert "Index Scan using ix_shop_products_price_cents_id" in plan, plan
        assert f"Index Cond: (ROW(price_cents, id) > ROW({cursor[0]}, {cursor[1]}))" in plan, plan
        assert "Sort" not in plan, plan
