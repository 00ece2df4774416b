"""The same point query three ways: a new connection for each query, a connection borrowed
from a pool, and a pooled connection that runs a server-side prepared statement."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from . import db
from .settings import libpq_url

# A join, so that parsing and planning cost something a prepared statement can skip.
POINT_QUERY = (
    "SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = %s"
)

Strategy = Literal["connect per query", "pool", "pool + prepared"]
STRATEGIES: tuple[Strategy, ...] = ("connect per query", "pool", "pool + prepared")

OrderEmail = tuple[int, str]


def open_pool(url: str, size: int = 2) -> ConnectionPool:
    """A pool of up to `size` connections, each with the lesson's search_path (sent when
    the session starts, so it holds for every connection the pool opens). Close it, or
    use it as a `with` block."""
    return ConnectionPool(
        libpq_url(url), kwargs=db.session_options(), min_size=1, max_size=size, open=True
    )


def point_queries(
    strategy: Strategy, url: str, pool: ConnectionPool, ids: Iterable[int]
) -> list[OrderEmail]:
    """Look up each order in `ids` (its id and its customer's email) with one query per id,
    the way `strategy` says; the rows found, in the order of `ids`. `url` serves
    "connect per query", `pool` the other two."""
    found: list[OrderEmail] = []
    if strategy == "connect per query":
        for order_id in ids:
            # Each query pays for a new server process and the login before it can run.
            with db.connect(url) as conn:
                found += _rows(conn.execute(POINT_QUERY, (order_id,)))
        return found
    # prepare=True: parse and plan once under a name, then only bind and execute.
    # prepare=False also stops psycopg from preparing by itself after 5 runs of the same
    # statement (its prepare_threshold), so "pool" really is parsed and planned each time.
    prepare = strategy == "pool + prepared"
    for order_id in ids:
        with pool.connection() as conn:
            found += _rows(conn.execute(POINT_QUERY, (order_id,), prepare=prepare))
    return found


def _rows(cur: psycopg.Cursor[TupleRow]) -> list[OrderEmail]:
    return [(int(order_id), str(email)) for order_id, email in cur.fetchall()]


def prepared_statements(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    """What the server holds prepared for this session: name, statement (with $1 where the
    values go) and how many times it ran. Prepared statements belong to one session:
    another connection, even from the same pool, has its own."""
    rows = conn.execute(
        "SELECT name, statement, generic_plans + custom_plans FROM pg_prepared_statements "
        "ORDER BY prepare_time"
    ).fetchall()
    return [(str(name), str(statement), int(runs)) for name, statement, runs in rows]
