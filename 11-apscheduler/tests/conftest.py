"""Fixtures: a SQLite file per test, and a throwaway PostgreSQL database per session."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.engine import URL

from scheduling.factory import make_engine
from scheduling.settings import Settings, load_settings, safe_url

DEFAULT_POSTGRES = "postgresql://postgres:postgres@localhost:5432/postgres"


def service_required(marker: str) -> bool:
    """LESSONS_REQUIRE_SERVICES (comma list or 'all') turns a skip into a failure."""
    wanted = {s.strip().lower() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    return "all" in wanted or marker in wanted


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    configured = os.environ.get("DATABASE_URL", "")
    raw = configured if configured.startswith("postgresql") else DEFAULT_POSTGRES
    url = make_url(raw).set(drivername="postgresql+psycopg", database="postgres")
    try:
        with psycopg.connect(libpq(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        message = (
            f"PostgreSQL not reachable at {safe_url(url)} - run: docker compose up -d postgres"
        )
        if service_required("postgres"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: URL) -> Iterator[str]:
    """A database of our own for the whole session, dropped at the end."""
    name = f"test_11_apscheduler_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(postgres_server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(postgres_server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The job store's backend is a parameter: the test runs once per database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(load_settings(database_url=url))
    with engine.begin() as conn:  # a clean store per test on the shared database
        from sqlalchemy import text

        conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs, job_history, instance_runs"))
    engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url, misfire_grace_time=30)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> object:
    """Poll until condition() is truthy; fail with a clear message instead of hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")
