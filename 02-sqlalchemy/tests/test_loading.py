"""The N+1 problem, counted statement by statement, and the options that fix it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session, sessionmaker

from demo.seed import seed_customers_with_orders
from shop.db import count_statements
from shop.loading import Strategy, order_counts
from shop.repository import SqlAlchemyShopRepository
from shop.services import place_order

CUSTOMERS, ORDERS_EACH = 30, 4


@pytest.fixture
def customers(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        seed_customers_with_orders(session, CUSTOMERS, ORDERS_EACH)


@pytest.mark.parametrize(
    ("strategy", "selects"),
    [
        ("lazy", 1 + CUSTOMERS),  # one for the customers, then one per customer: N+1
        ("selectinload", 2),  # customers, then all their orders with WHERE customer_id IN (...)
        ("joinedload", 1),  # one LEFT OUTER JOIN
    ],
)
def test_statement_counts(
    engine: Engine,
    session_factory: sessionmaker[Session],
    customers: None,
    strategy: Strategy,
    selects: int,
) -> None:
    with session_factory() as session, count_statements(engine) as log:
        counts = order_counts(session, strategy)
    assert log.selects == selects
    assert log.count == selects  # nothing but SELECTs was sent
    # Same answer, whatever it cost.
    assert len(counts) == CUSTOMERS and set(counts.values()) == {ORDERS_EACH}


def test_lazy_cost_grows_with_rows_eager_does_not(
    engine: Engine, session_factory: sessionmaker[Session], customers: None
) -> None:
    with session_factory.begin() as session:
        seed_customers_with_orders(session, 10, 1, first=CUSTOMERS)  # ten more customers
    costs = {}
    for strategy in ("lazy", "selectinload"):
        with session_factory() as session, count_statements(engine) as log:
            order_counts(session, strategy)
        costs[strategy] = log.selects
    assert costs == {"lazy": 1 + CUSTOMERS + 10, "selectinload": 2}


def test_raiseload_turns_a_hidden_query_into_an_error(
    engine: Engine, session_factory: sessionmaker[Session], customers: None
) -> None:
    with (
        session_factory() as session,
        count_statements(engine) as log,
        pytest.raises(InvalidRequestError, match="lazy='raise'"),
    ):
        order_counts(session, "raiseload")
    assert log.selects == 1  # the customers query ran; the forbidden lazy load did not


def test_repository_api_path_costs_the_same_for_any_number_of_orders(
    engine: Engine, session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    costs = []
    for _ in range(3):
        with session_factory.begin() as session:
            place_order(SqlAlchemyShopRepository(session), "ada@example.test", {"MUG": 1, "MAP": 1})
        with session_factory() as session, count_statements(engine) as log:
            orders = SqlAlchemyShopRepository(session).orders_of("ada@example.test")
            skus = [sorted(li.product.sku for li in o.lines) for o in orders]
        costs.append(log.selects)
        assert skus == [["MAP", "MUG"]] * len(orders)
    assert costs == [2, 2, 2]  # orders, then lines joined to products: never 1 + N


def test_repository_forbids_loads_it_did_not_plan(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory.begin() as session:
        place_order(SqlAlchemyShopRepository(session), "ada@example.test", {"MUG": 1})
    with session_factory() as session:
        [order] = SqlAlchemyShopRepository(session).orders_of("ada@example.test")
        with pytest.raises(InvalidRequestError):
            _ = order.customer
