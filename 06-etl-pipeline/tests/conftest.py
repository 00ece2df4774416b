"""Fixtures: generated inputs, a warehouse per test on SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.engine import URL

from etl.schema import Base, warehouse
from etl.settings import Settings, load_settings, safe_url
from sources.generate import Manifest, generate

DEFAULT_POSTGRES = "postgresql://postgres:postgres@localhost:5432/postgres"
ROWS = 3000


def service_required(marker: str) -> bool:
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
    name = f"test_06_etl_pipeline_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(postgres_server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(postgres_server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """One generated data set for the session; tests copy it before changing anything."""
    folder = tmp_path_factory.mktemp("inputs")
    return folder, generate(folder, ROWS, seed=11)


@pytest.fixture
def data_dir(inputs: tuple[Path, Manifest], tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(inputs[0], folder)
    return folder


@pytest.fixture
def manifest(inputs: tuple[Path, Manifest]) -> Manifest:
    return inputs[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = warehouse(load_settings(database_url=url))
    Base.metadata.drop_all(engine)  # a clean warehouse per test on the shared database
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS pos_orders"))
    engine.dispose()
    return url


@pytest.fixture
def settings(warehouse_url: str, data_dir: Path) -> Settings:
    return load_settings(
        database_url=warehouse_url,
        source_database_url=f"sqlite:///{data_dir / 'source.db'}",
        data_dir=data_dir,
        batch_size=500,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = warehouse(settings)
    yield engine
    engine.dispose()
