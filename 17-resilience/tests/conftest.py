"""Fixtures: a clock the tests move by hand, and Redis (probed once, skipped with a hint, or
failed when LESSONS_REQUIRE_SERVICES names it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio as aioredis

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
