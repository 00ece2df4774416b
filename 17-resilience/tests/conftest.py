"""Fixtures: a clock the tests move by hand, and Redis (probed once, skipped with a hint, or
failed when LESSONS_REQUIRE_SERVICES names it)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from faults.app import Faults
from faults.app import create_app as faults_app
from resilience.api import create_app
from resilience.settings import Settings
from tools.serving import ServerThread

DEFAULT_REDIS_URL = "redis://localhost:6379/0"


class FakeClock:
    """Seconds that pass only when a test says so: window edges without sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """For code that takes a ``sleep``: waiting moves the clock, instantly."""
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


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
    except (redis.RedisError, OSError, ValueError) as exc:
        message = f"Redis not reachable at {url} - run: docker compose up -d redis ({exc!r})"
        if _required("redis"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A prefix no other run uses; its keys are deleted afterwards (never FLUSHALL)."""
    prefix = f"test:resilience:{uuid.uuid4().hex}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
async def aredis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


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
        server.request_stop()
    for server in started:
        server.stop()


@pytest.fixture
def api(serve: Callable[[Any], ServerThread]) -> Callable[..., Stack]:
    """An API in front of two fault injectors, each with its own faults; settings overridable."""

    def start(
        inventory: Faults | None = None, recommendations: Faults | None = None, **overrides: Any
    ) -> Stack:
        inv = serve(faults_app(inventory, "inventory"))
        rec = serve(faults_app(recommendations, "recommendations"))
        values: dict[str, Any] = {
            "redis_url": None,
            "inventory_url": inv.url,
            "recommendations_url": rec.url,
            "rate_limit": 10_000,
            "backoff_base_s": 0.001,
            "backoff_cap_s": 0.01,
        }
        values.update(overrides)
        # Explicit values win over the environment: a developer's REDIS_URL does not leak in.
        app = create_app(Settings.model_validate(values))
        return Stack(serve(app).url, inv.url, rec.url)

    return start


@dataclass
class Stack:
    url: str
    inventory: str
    recommendations: str

    def stats(self, upstream: str) -> dict[str, int]:
        return httpx.get(f"{getattr(self, upstream)}/stats").json()


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "condition") -> None:
    """Poll a condition instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout_s} s")
        time.sleep(0.02)
