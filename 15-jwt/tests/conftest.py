"""Fixtures: settings in a temporary folder, the app in a TestClient, real servers on free
ports, and the Redis and PostgreSQL probes (skip with a hint, fail when CI requires them)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlalchemy.engine import URL

from demo.server import ServerThread
from tokens.app import create_app
from tokens.settings import Settings

DEFAULT_REDIS = "redis://localhost:6379/0"
DEFAULT_POSTGRES = "postgresql://postgres:postgres@localhost:5432/postgres"
ADA = ("ada", "correct horse battery staple")
BOB = ("bob", "hunter2 but longer")


def service_required(marker: str) -> bool:
    """LESSONS_REQUIRE_SERVICES (comma list or 'all') turns a skip into a failure."""
    wanted = {s.strip().lower() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    return "all" in wanted or marker in wanted


def unavailable(marker: str, message: str) -> None:
    if service_required(marker):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
            client.ping()
    except (redis.RedisError, OSError):
        unavailable("redis", f"Redis not reachable at {url} - run: docker compose up -d redis")
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other run uses; its keys are deleted afterwards (never FLUSHALL)."""
    prefix = f"test:15:{secrets.token_hex(6)}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)


def postgres_admin_url() -> URL:
    configured = os.environ.get("DATABASE_URL", "")
    raw = configured if configured.startswith("postgresql") else DEFAULT_POSTGRES
    return make_url(raw).set(drivername="postgresql+psycopg", database="postgres")


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway database for the session, dropped at the end."""
    admin = postgres_admin_url()
    try:
        with psycopg.connect(_libpq(admin), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        shown = admin.render_as_string(hide_password=True)
        unavailable(
            "postgres", f"PostgreSQL not reachable at {shown} - run: docker compose up -d postgres"
        )
    name = f"test_15_jwt_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The backend is a parameter: a test using it runs once per database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tokens.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Test settings: files under tmp_path, memory revocations; explicit values beat the env."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'tokens.db'}",
        "key_dir": tmp_path / "keys",
        "redis_url": None,
        "jwks_url": None,
        "algorithm": "ES256",
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def login(client: Any, who: tuple[str, str] = ADA, scope: str = "") -> dict[str, Any]:
    form = {"grant_type": "password", "username": who[0], "password": who[1]}
    if scope:
        form["scope"] = scope
    response = client.post("/token", data=form)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def serve() -> Iterator[Callable[[Any], ServerThread]]:
    """Start any ASGI app on a free port; everything started is stopped, also on failure."""
    started: list[ServerThread] = []

    def start(app: Any) -> ServerThread:
        server = ServerThread(app).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
