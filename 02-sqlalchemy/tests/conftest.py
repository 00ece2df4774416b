"""Fixtures: every database test runs on SQLite and on PostgreSQL (a throwaway database)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from demo.seed import seed_catalog
from shop.db import make_engine, make_session_factory, safe_url
from shop.models import Base, Customer, Product

DEFAULT_POSTGRES = "postgresql://postgres:postgres@localhost:5432/postgres"


def service_required(marker: str) -> bool:
    """LESSONS_REQUIRE_SERVICES (comma list or 'all') turns a skip into a failure."""
    wanted = {s.strip().lower() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    return "all" in wanted or marker in wanted


def postgres_admin_url() -> URL:
    """The server from DATABASE_URL when it is PostgreSQL, else the compose default."""
    configured = os.environ.get("DATABASE_URL", "")
    raw = configured if configured.startswith("postgresql") else DEFAULT_POSTGRES
    return make_url(raw).set(drivername="postgresql+psycopg", database="postgres")


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    url = postgres_admin_url()
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3) as conn:
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
def postgres_database(postgres_server: URL) -> Iterator[URL]:
    """A database of our own for the whole session, dropped at the end."""
    name = f"test_02_sqlalchemy_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(postgres_server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.set(database=name)
    finally:
        with psycopg.connect(_libpq(postgres_server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> URL:
    """The backend is a parameter: each test using it runs once per database."""
    if request.param == "sqlite":
        return make_url(f"sqlite:///{tmp_path / 'shop.db'}")
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def engine(database_url: URL) -> Iterator[Engine]:
    """An engine with a fresh schema; on PostgreSQL the tables are dropped again after."""
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()  # close pooled connections first so DROP never waits on them
        Base.metadata.drop_all(engine)
        engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def catalog(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """The seeded catalog plus two customers, committed. Returns product ids by sku."""
    with session_factory.begin() as session:
        products = seed_catalog(session)
        session.add_all(
            [
                Customer(email="ada@example.test", name="Ada"),
                Customer(email="bob@example.test", name="Bob"),
            ]
        )
        session.flush()
        return {sku: p.id for sku, p in products.items()}


def stock_of(session: Session, sku: str) -> int:
    """Read stock straight from the database, bypassing the identity map."""
    return session.execute(select(Product.stock).where(Product.sku == sku)).scalar_one()
