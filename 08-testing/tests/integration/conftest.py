"""Integration tier: the SQL adapter on real databases, SQLite and PostgreSQL.

``backend`` is a parametrized fixture, so every test that (indirectly) asks for a session
runs twice: ``[sqlite]`` and ``[postgres]``. The postgres case carries the ``postgres``
marker, so it skips with a hint, or fails under LESSONS_REQUIRE_SERVICES, when the server
is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders.db import create_engine
from orders.repository import SqlRepository
from testkit.dbtools import create_database, create_schema, drop_database, rollback_session


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    """Where this test's rows go.

    rollback (default): the session-wide throwaway database; the session fixture below
    rolls every test back. recreate: a brand-new database for this test alone, the slow
    way bench.py compares against.
    """
    if request.config.getoption("--db-isolation") == "rollback":
        yield request.getfixturevalue(f"{backend}_url")
    elif backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        create_schema(url)
        yield url
    else:
        server = request.getfixturevalue("postgres_server")
        url = create_database(server)
        try:
            create_schema(url)
            yield url
        finally:
            drop_database(server, url)


@pytest.fixture
async def session(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[AsyncSession]:
    # NullPool: one connection per test, closed with it. A pooled connection would outlive
    # the test's event loop (pytest-asyncio gives each test its own).
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        if request.config.getoption("--db-isolation") == "rollback":
            async with rollback_session(engine) as session:
                yield session
        else:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                yield session
    finally:
        await engine.dispose()


@pytest.fixture
def sql_repo(session: AsyncSession) -> SqlRepository:
    return SqlRepository(session)
