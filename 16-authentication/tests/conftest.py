"""Fixtures: cheap hashing settings, the app in a TestClient on a movable clock, the backend
as a parameter (SQLite, Redis sessions, PostgreSQL), and the service probes (skip with a
hint, fail when LESSONS_REQUIRE_SERVICES names the service)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlalchemy.engine import URL

from auth.app import create_app
from auth.db import Base, make_engine
from auth.deps import Services
from auth.settings import Settings, load_settings

DEFAULT_REDIS = "redis://localhost:6379/0"
DEFAULT_POSTGRES = "postgresql://postgres:postgres@localhost:5432/postgres"
# Users every test may log in as: name -> (password, roles, legacy bcrypt hash?)
PEOPLE = {
    "ada": ("ada-correct-horse", ["admin"], False),
    "bob": ("bob-battery-staple", ["clerk"], False),
    "cyd": ("cyd-viewer-only!", ["viewer"], False),
    "dee": ("dee-from-the-old-system", ["clerk"], True),
    "eli": ("eli-another-clerk", ["clerk"], False),
}
CLIENT_ID, REDIRECT = "test-app", "http://127.0.0.1:9999/callback"
# Hashing as cheap as argon2id and bcrypt allow: the suite measures behaviour, not cost
# (bench.py measures the cost, with the real parameters).
CHEAP = {"argon2_memory_kib": 64, "argon2_time_cost": 1, "bcrypt_rounds": 4}


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
    prefix = f"test:16:{secrets.token_hex(6)}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway database for the session, dropped at the end."""
    configured = os.environ.get("DATABASE_URL", "")
    raw = configured if configured.startswith("postgresql") else DEFAULT_POSTGRES
    admin = make_url(raw).set(drivername="postgresql+psycopg", database="postgres")
    try:
        with psycopg.connect(_libpq(admin), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        shown = admin.render_as_string(hide_password=True)
        unavailable(
            "postgres", f"PostgreSQL not reachable at {shown} - run: docker compose up -d postgres"
        )
    name = f"test_16_authentication_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Clock:
    """The app's clock, moved by the test instead of sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'auth.db'}",
        "redis_url": None,
        "oauth_clients": {CLIENT_ID: [REDIRECT]},
        **CHEAP,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings overrides per backend: sessions in SQLite, in Redis, or everything in
    PostgreSQL. A test using it runs once per backend."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return {"redis_url": url, "redis_prefix": request.getfixturevalue("redis_prefix")}
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        engine = make_engine(url)
        Base.metadata.drop_all(engine)  # a clean schema per test on the session's database
        engine.dispose()
        return {"database_url": url}
    return {}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        unavailable(
            "browser",
            f"Chromium not found at {path} - install it: apt-get install chromium "
            "(or set CHROMIUM_PATH)",
        )
    return path


Factory = Callable[..., TestClient]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_client(tmp_path: Path, clock: Clock) -> Iterator[Factory]:
    """Start the app (lifespan and all) with settings overrides; seeded with PEOPLE."""
    opened: list[TestClient] = []

    def make(seed: bool = True, ip: str = "198.51.100.7", **overrides: Any) -> TestClient:
        settings = make_settings(tmp_path, **overrides)
        # https: the Secure cookie travels, exactly as in production.
        client = TestClient(
            create_app(settings, clock), base_url="https://testserver", client=(ip, 50000)
        )
        client.__enter__()
        opened.append(client)
        if seed and not opened[:-1]:
            add_people(services(client))
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Factory, backend: dict[str, Any]) -> TestClient:
    return make_client(**backend)


def services(client: TestClient) -> Services:
    return services_of_app(client.app)


def services_of_app(app: Any) -> Services:
    found: Services = app.state.services
    return found


def add_people(svc: Services) -> None:
    for name, (password, roles, legacy) in PEOPLE.items():
        svc.users.create(name, password, roles, legacy_bcrypt=legacy)


def bearer_for(client: TestClient, name: str) -> dict[str, str]:
    response = client.post(
        "/token", data={"grant_type": "password", "username": name, "password": PEOPLE[name][0]}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def cookie_login(client: TestClient, name: str, **extra: str) -> str:
    """Log in with a cookie session; returns the CSRF token for writes."""
    response = client.post(
        "/session", json={"username": name, "password": PEOPLE[name][0], **extra}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def error_code(response: Any) -> str:
    body = response.json()
    code: str = body["error"]["code"]
    return code
