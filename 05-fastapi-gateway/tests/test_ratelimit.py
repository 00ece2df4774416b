"""Token buckets: the arithmetic in memory, the same in Redis, and Redis shared by two gateways."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

import httpx
import pytest

from demo.serving import ServerThread
from gateway.ratelimit import MemoryRateLimiter, RedisRateLimiter
from gateway.settings import ApiClient, Route
from tests.upstreams import Behaviour, probe_app


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_bucket_allows_burst_then_refills_at_rate() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    decisions = [await limiter.hit("k", rate=2.0, burst=3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    # Empty bucket at 2 tokens/s: the next token is 0.5 s away, the full bucket 1.5 s.
    assert decisions[3].retry_after_s == pytest.approx(0.5)
    assert decisions[3].headers()["Retry-After"] == "1"
    clock.now += 0.5
    assert (await limiter.hit("k", rate=2.0, burst=3)).allowed
    assert not (await limiter.hit("k", rate=2.0, burst=3)).allowed
    clock.now += 100  # long idle: refills only up to the burst
    assert (await limiter.hit("k", rate=2.0, burst=3)).remaining == 2


async def test_memory_buckets_are_per_key() -> None:
    limiter = MemoryRateLimiter(FakeClock())
    assert (await limiter.hit("a", rate=1.0, burst=1)).allowed
    assert not (await limiter.hit("a", rate=1.0, burst=1)).allowed
    assert (await limiter.hit("b", rate=1.0, burst=1)).allowed


@pytest.mark.redis
async def test_redis_bucket_gives_the_same_answers(redis_url: str, key_prefix: str) -> None:
    limiter = RedisRateLimiter(redis_url, key_prefix)
    try:
        # rate tiny: nothing refills during the test, so the answers are exact.
        decisions = [await limiter.hit("k", rate=0.001, burst=3) for _ in range(4)]
    finally:
        await limiter.aclose()
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[3].retry_after_s > 900  # 1 token at 0.001/s is ~1000 s away


@pytest.mark.redis
async def test_two_gateways_share_one_limit_exactly(
    redis_url: str,
    key_prefix: str,
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
) -> None:
    upstream = serve(probe_app(Behaviour()))
    settings = {
        "routes": [Route(name="echo", prefix="/echo", instances=[upstream.url])],
        "api_keys": {"k": ApiClient(name="shared", rate_per_s=0.001, burst=7)},
        "redis_url": redis_url,
        "rate_limit_prefix": key_prefix,
    }
    a, b = start_gateway(**settings), start_gateway(**settings)
    async with httpx.AsyncClient(headers={"X-API-Key": "k"}, timeout=10) as client:
        # 30 requests at once, alternating between the two gateways: two apps, each with its
        # own limiter object, that agree only through Redis.
        urls = [f"{(a, b)[i % 2].url}/echo/{i}" for i in range(30)]
        answers = await asyncio.gather(*(client.get(u) for u in urls))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 7 + [429] * 23
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit-limit"] == "7"


async def test_memory_limit_is_exact_under_concurrency(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    upstream = serve(probe_app(Behaviour()))
    gw = start_gateway(
        routes=[Route(name="echo", prefix="/echo", instances=[upstream.url])],
        api_keys={"k": ApiClient(name="solo", rate_per_s=0.001, burst=5)},
    )
    async with httpx.AsyncClient(headers={"X-API-Key": "k"}, timeout=10) as client:
        answers = await asyncio.gather(*(client.get(f"{gw.url}/echo/{i}") for i in range(20)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [429] * 15


def test_unreachable_redis_fails_open_and_says_so(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream = serve(probe_app(Behaviour()))
    with socket.socket() as s:  # a free port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        dead_url = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    gw = start_gateway(
        routes=[Route(name="echo", prefix="/echo", instances=[upstream.url])],
        redis_url=dead_url,
    )
    with caplog.at_level(logging.WARNING, logger="gateway.ratelimit"):
        r = httpx.get(f"{gw.url}/echo/x", headers={"X-API-Key": "demo-key"})
        ready = httpx.get(f"{gw.url}/ready")
    assert r.status_code == 200
    assert "ratelimit-limit" not in r.headers
    assert any("rate limiter unavailable" in rec.getMessage() for rec in caplog.records)
    assert ready.status_code == 503
    assert ready.json()["limiter"].startswith("redis unavailable")
