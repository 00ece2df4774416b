"""The connection pool: reuse, overflow, exhaustion, NullPool, and pre-ping (PostgreSQL)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from shop.pooling import make_pooled_engine, make_unpooled_engine, watch_pool
from tools import measure


@pytest.fixture
def small_pool(database_url: URL) -> Iterator[Engine]:
    engine = make_pooled_engine(database_url, size=1, overflow=1, timeout=0.2)
    yield engine
    engine.dispose()


def _ping(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT 1").scalar_one()


def test_pool_reuses_one_connection_for_sequential_requests(small_pool: Engine) -> None:
    events = watch_pool(small_pool)
    for _ in range(5):
        assert _ping(small_pool) == 1
    assert (events["connect"], events["checkout"], events["checkin"]) == (1, 5, 5)


def test_overflow_connections_are_closed_on_return(small_pool: Engine) -> None:
    events = watch_pool(small_pool)
    pool = small_pool.pool
    assert isinstance(pool, QueuePool)
    first, second = small_pool.connect(), small_pool.connect()  # size 1 + overflow 1
    assert pool.checkedout() == 2
    first.close()
    second.close()
    assert events["connect"] == 2
    assert events["close"] == 1  # the overflow connection was not kept
    assert pool.checkedin() == 1


def test_exhausted_pool_raises_a_timeout_instead_of_hanging(small_pool: Engine) -> None:
    held = [small_pool.connect(), small_pool.connect()]
    try:
        with pytest.raises(PoolTimeout, match="QueuePool limit of size 1 overflow 1"):
            small_pool.connect()
    finally:
        for conn in held:
            conn.close()
    assert _ping(small_pool) == 1  # returned connections serve the next request


def test_null_pool_opens_and_closes_a_connection_per_checkout(database_url: URL) -> None:
    engine = make_unpooled_engine(database_url)
    events = watch_pool(engine)
    try:
        for _ in range(4):
            _ping(engine)
    finally:
        engine.dispose()
    assert (events["connect"], events["close"]) == (4, 4)


def test_the_checkout_bench_pings_only_in_its_pre_ping_row(
    database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NullPool never pings, so the pool it is measured against must not either."""
    pings: Counter[str] = Counter()
    for name, engine in measure.checkout_engines(database_url):
        real_ping = engine.dialect.do_ping

        def counted(dbapi_connection: Any, name: str = name, real_ping: Any = real_ping) -> bool:
            pings[name] += 1
            return real_ping(dbapi_connection)

        monkeypatch.setattr(engine.dialect, "do_ping", counted)
        try:
            for _ in range(3):
                _ping(engine)
        finally:
            engine.dispose()
    # A connection just opened is not pinged: three requests on one pooled connection, two pings.
    assert dict(pings) == {"QueuePool + pre_ping": 2}


# PostgreSQL only: a server that drops a connection behind the pool's back.


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def _terminate(admin: URL, pid: int, timeout: float = 5.0) -> None:
    """Kill a server process the way a restart or an idle timeout would, and wait until gone."""
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + timeout
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, f"backend {pid} still alive"
            time.sleep(0.01)


@pytest.mark.postgres
def test_pre_ping_replaces_a_dropped_connection(postgres_database: URL) -> None:
    engine = make_pooled_engine(postgres_database, size=1, overflow=0, pre_ping=True)
    events = watch_pool(engine)
    try:
        before = _backend_pid(engine)
        _terminate(postgres_database, before)
        after = _backend_pid(engine)  # the ping fails, the pool reconnects, the request works
    finally:
        engine.dispose()
    assert after != before
    assert events["connect"] == 2


@pytest.mark.postgres
def test_without_pre_ping_the_next_request_fails_once(postgres_database: URL) -> None:
    engine = make_pooled_engine(postgres_database, size=1, overflow=0, pre_ping=False)
    try:
        before = _backend_pid(engine)
        _terminate(postgres_database, before)
        with pytest.raises(DBAPIError) as caught:
            _backend_pid(engine)
        assert caught.value.connection_invalidated  # SQLAlchemy noticed and dropped it...
        assert _backend_pid(engine) != before  # ...so the request after that works again
    finally:
        engine.dispose()
