"""Fixtures: a fresh database per test, on SQLite and (marker `postgres`) on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

PG_FALLBACK = "postgresql://postgres:postgres@localhost:5432/postgres"


def _required(service: str) -> bool:
    """LESSONS_REQUIRE_SERVICES turns 'service missing' from a skip into a failure."""
    wanted = {
        name.strip().lower() for name in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")
    }
    return "all" in wanted or service in wanted


def _server_url() -> URL:
    # The server from DATABASE_URL when it names PostgreSQL; its maintenance database
    # is where CREATE DATABASE and DROP DATABASE run.
    configured = os.environ.get("DATABASE_URL", "")
    url = make_url(configured if configured.startswith("postgresql") else PG_FALLBACK)
    return url.set(drivername="postgresql+psycopg", database="postgres")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[URL]:
    """Probe PostgreSQL once; skip with a hint (or fail, when required) if it is not there."""
    url = _server_url()
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError:
        shown = url.render_as_string(hide_password=True)
        hint = f"PostgreSQL not reachable at {shown} - run: docker compose up -d postgres"
        if _required("postgres"):
            pytest.fail(hint)
        pytest.skip(hint)
    finally:
        engine.dispose()
    yield url


@pytest.fixture
def make_pg_database(postgres_server: URL) -> Iterator[Callable[[], str]]:
    """A factory of throwaway databases test_04_alembic_<hex>, all dropped after the test."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make() -> str:
        name = f"test_04_alembic_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return postgres_server.set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as connection:
        for name in created:
            # FORCE: a failed test may have left a connection open; the drop must still happen.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], str]:
    """Each call returns the URL of another empty database on the backend under test."""
    if request.param == "postgres":
        return request.getfixturevalue("make_pg_database")

    def make_sqlite() -> str:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"

    return make_sqlite


@pytest.fixture
def database_url(new_database: Callable[[], str]) -> str:
    return new_database()
