"""Fixtures: real uvicorn servers on free ports, gateways wired to them, and a Redis probe."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from demo.serving import ServerThread
from demo.stack import Stack, start_upstreams
from gateway.app import create_app
from gateway.settings import DEFAULT_KEYS, GatewaySettings

DEFAULT_REDIS_URL = "redis://localhost:6379/0"


def _required(service: str) -> bool:
    wanted = {s.strip() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    return service in wanted or "all" in wanted


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis to test against; skipped with a hint when absent, unless CI requires it."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
            client.ping()
    except (redis.RedisError, OSError) as exc:
        message = f"Redis not reachable at {url} - run: docker compose up -d redis ({exc!r})"
        if _required("redis"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A prefix no other run uses; its keys are deleted afterwards (never FLUSHALL)."""
    prefix = f"test:gateway:{uuid.uuid4().hex}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def serve() -> Iterator[Callable[..., ServerThread]]:
    """Start any ASGI app on a free port; everything started is stopped, also on failure."""
    started: list[ServerThread] = []

    def start(app: Any) -> ServerThread:
        server = ServerThread(app).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.request_stop()
    for server in started:
        server.stop()


@pytest.fixture
def stack() -> Iterator[Stack]:
    """users, orders and two catalog instances, each a real server."""
    s = start_upstreams()
    yield s
    s.stop()


def gateway_settings(**overrides: Any) -> GatewaySettings:
    """Test settings: memory limiter with room for any test, fast health checks, no env."""
    values: dict[str, Any] = {
        "api_keys": DEFAULT_KEYS,
        "redis_url": None,
        "rate_per_s": 1000.0,
        "burst": 1000,
        "health_interval_s": 0.05,
        "retry_backoff_s": 0.01,
        "access_log": True,
    }
    values.update(overrides)
    # Explicit values win over the environment: a developer's REDIS_URL does not leak in.
    return GatewaySettings.model_validate(values)


@pytest.fixture
def start_gateway(
    serve: Callable[..., ServerThread],
) -> Callable[..., ServerThread]:
    def start(**overrides: Any) -> ServerThread:
        return serve(create_app(gateway_settings(**overrides)))

    return start


@pytest.fixture
def gateway(stack: Stack, start_gateway: Callable[..., ServerThread]) -> Iterator[httpx.Client]:
    """A client of a gateway in front of the example services, authenticated as demo-key."""
    server = start_gateway(routes=stack.routes(timeout_s=3.0))
    with httpx.Client(base_url=server.url, headers={"X-API-Key": "demo-key"}, timeout=10) as c:
        yield c


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "condition") -> None:
    """Poll a condition instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout_s} s")
        time.sleep(0.02)
