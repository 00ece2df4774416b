"""Fixtures: an empty database per test, on SQLite and (marker `postgres`) on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

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


class PgDatabases:
    """Throwaway databases test_04_alembic_<hex>, reused from test to test.

    CREATE DATABASE copies a template and costs far more than emptying a schema, so a database
    is created once per session and handed to the next test with a fresh `public` schema.
    """

    def __init__(self, server: URL) -> None:
        self.server = server
        self.admin = create_engine(server, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def url(self, name: str) -> URL:
        return self.server.set(database=name)

    def create(self) -> str:
        name = f"test_04_alembic_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return name

    def reset(self, name: str) -> None:
        with self.admin.connect() as connection:
            # A connection a failed test left open could hold a lock the reset would wait for.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        engine = create_engine(self.url(name), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.names:
                # FORCE: a failed test may have left a connection open; the drop must happen.
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases(postgres_server: URL) -> Iterator[PgDatabases]:
    databases = PgDatabases(postgres_server)
    yield databases
    databases.drop_all()


@pytest.fixture
def make_pg_database(pg_databases: PgDatabases) -> Callable[[], str]:
    """A factory of empty PostgreSQL databases for one test (each call: another one)."""
    handed_out = 0

    def make() -> str:
        nonlocal handed_out
        if handed_out == len(pg_databases.names):
            name = pg_databases.create()  # new, hence empty
        else:
            name = pg_databases.names[handed_out]
            pg_databases.reset(name)
        handed_out += 1
        return pg_databases.url(name).render_as_string(hide_password=False)

    return make


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
