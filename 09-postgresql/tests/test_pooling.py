"""The point query three ways, on the tiny shop: the same rows whichever way, and a prepared
statement only where one is asked for."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool
from rich.console import Console

from demo.tour import Tour
from shopdb import db, pooling

pytestmark = pytest.mark.postgres

ADA, GRACE, ALAN = (
    "Ada.Lovelace1@Example.test",
    "Grace.Hopper2@Example.test",
    "Alan.Turing3@Example.test",
)


@pytest.fixture
def pool(shop_url: str) -> Iterator[ConnectionPool]:
    # One connection: every query of a test runs in the same session, so what that
    # session holds prepared is what the test then reads from pg_prepared_statements.
    with pooling.open_pool(shop_url, size=1) as pool:
        yield pool


@pytest.mark.parametrize("strategy", pooling.STRATEGIES)
def test_every_strategy_finds_the_same_orders(
    shop_url: str, pool: ConnectionPool, strategy: pooling.Strategy
) -> None:
    # Order 99 does not exist: no row for it, and the others keep the order they were asked in.
    rows = pooling.point_queries(strategy, shop_url, pool, [4, 99, 6, 1])

    assert rows == [(4, ALAN), (6, GRACE), (1, ADA)]


def test_pool_plus_prepared_runs_one_server_side_prepared_statement(
    shop_url: str, pool: ConnectionPool
) -> None:
    pooling.point_queries("pool + prepared", shop_url, pool, range(1, 8))

    with pool.connection() as conn:
        held = pooling.prepared_statements(conn)

    # The server's own record: the statement with a $1 placeholder, prepared once in this
    # session and executed for each of the 7 orders.
    assert [(statement, runs) for _, statement, runs in held] == [
        (
            "SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE o.id = $1",
            7,
        )
    ]


def test_plain_pool_prepares_nothing(shop_url: str, pool: ConnectionPool) -> None:
    # 7 runs of one statement: more than the 5 after which psycopg would prepare on its own.
    pooling.point_queries("pool", shop_url, pool, range(1, 8))

    with pool.connection() as conn:
        assert pooling.prepared_statements(conn) == []


def test_tour_shows_the_query_its_rows_and_the_prepared_statement(
    shop: psycopg.Connection, connect: db.Connect, shop_url: str
) -> None:
    buffer = io.StringIO()

    Tour(shop, connect, Console(file=buffer, width=200), shop_url).run_pooling()

    text = buffer.getvalue()
    assert pooling.POINT_QUERY in text
    for order_id, email in ((1, ADA), (2, GRACE), (3, ADA)):
        assert re.search(rf"^ {order_id}\s+│ {re.escape(email)}", text, re.MULTILINE), text
    # The name is psycopg's to choose; the statement and its count are the server's record.
    assert re.search(
        r"pg_prepared_statements of that session: \S+, executed 3 times: "
        + re.escape(pooling.POINT_QUERY.replace("%s", "$1")),
        text,
    ), text
