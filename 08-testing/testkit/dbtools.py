"""Database helpers for the fixtures: throwaway databases and the rollback-per-test session."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import sqlalchemy
from psycopg import sql
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from orders.db import Base


def _conninfo(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def postgres_reachable(url: str) -> bool:
    try:
        psycopg.connect(_conninfo(url), connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def create_database(server_url: str) -> str:
    """CREATE DATABASE test_08_testing_<hex>; return its URL."""
    name = f"test_08_testing_{secrets.token_hex(4)}"
    # CREATE/DROP DATABASE cannot run inside a transaction, hence autocommit.
    with psycopg.connect(_conninfo(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    if not name:
        raise ValueError(f"no database name in {url}")
    with psycopg.connect(_conninfo(server_url), autocommit=True) as conn:
        # FORCE: a connection leaked by a failed test must not keep the database alive.
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create_schema(url: str) -> None:
    """Create the tables with a short-lived sync engine (no event loop needed)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = sqlalchemy.create_engine(parsed)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


@asynccontextmanager
async def rollback_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose every change is rolled back at the end, even committed ones.

    The outer transaction belongs to the test. ``create_savepoint`` makes the session run
    inside a SAVEPOINT, so when the code under test calls ``commit()`` it only releases the
    savepoint; the outer ROLLBACK then throws everything away. Cheap, and the code under
    test runs unchanged.
    """
    async with engine.connect() as connection:
        outer = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()
