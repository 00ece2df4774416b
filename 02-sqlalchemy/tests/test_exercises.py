"""Tests for the README's exercises. Deselected by default; run them with `pytest -m exercise`.

They fail until the exercise is done: that is the point.
"""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from shop import loading, queries
from shop.db import count_statements, make_session_factory
from shop.models import Product
from shop.repository import SqlAlchemyShopRepository
from shop.services import place_order

pytestmark = pytest.mark.exercise


def test_exercise_1_best_sellers(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    best_sellers = getattr(queries, "best_sellers", None)
    assert best_sellers is not None, "write shop.queries.best_sellers(session, limit)"
    with session_factory.begin() as session:
        repo = SqlAlchemyShopRepository(session)
        place_order(repo, "ada@example.test", {"MUG": 3, "MAP": 1})
        place_order(repo, "bob@example.test", {"MUG": 2, "LAMP": 2})
    with session_factory() as session:
        assert [tuple(r) for r in best_sellers(session, limit=2)] == [("MUG", 5), ("LAMP", 2)]


def test_exercise_2_counts_without_loading_orders(
    engine: Engine, session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    assert "aggregate" in loading.STRATEGIES, "add an 'aggregate' strategy to shop.loading"
    with session_factory.begin() as session:
        place_order(SqlAlchemyShopRepository(session), "ada@example.test", {"MUG": 1})
    with session_factory() as session, count_statements(engine) as log:
        counts = loading.order_counts(session, cast(loading.Strategy, "aggregate"))
        assert counts == {"ada@example.test": 1, "bob@example.test": 0}
        assert not any(type(obj).__name__ == "Order" for obj in session.identity_map.values())
    assert log.selects == 1


def test_exercise_3_previous_page(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    before = getattr(queries, "products_page_keyset_before", None)
    assert before is not None, (
        "write shop.queries.products_page_keyset_before(session, cursor, size)"
    )
    with session_factory() as session:
        first = queries.products_page_keyset(session, None, 5)
        second = queries.products_page_keyset(session, queries.keyset_cursor(first), 5)
        cursor = (second[0].price_cents, second[0].id)
        assert [p.sku for p in before(session, cursor, 5)] == [p.sku for p in first]


def test_exercise_5_optimistic_locking(engine: Engine, catalog: dict[str, int]) -> None:
    assert Product.__mapper__.version_id_col is not None, "add a version_id_col to Product"
    # Two clients read the same product (like two browser tabs), then both write.
    reader = make_session_factory(engine, expire_on_commit=False)
    with reader() as first, reader() as second:
        mine = first.get_one(Product, catalog["MUG"])
        theirs = second.get_one(Product, catalog["MUG"])
        first.commit()
        second.commit()  # end both read transactions; the objects keep what they read
        mine.stock -= 1
        first.commit()
        theirs.stock -= 1
        with pytest.raises(StaleDataError):
            second.commit()  # its UPDATE ... WHERE version = <old> matched no row
