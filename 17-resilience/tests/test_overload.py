"""A slow dependency and too many callers: the bulkhead keeps the healthy route answering,
and the server sheds what it cannot queue with 503 + Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from faults.app import Faults
from tests.conftest import Stack

SLOW = Faults(latency_ms=2000)


async def in_flight_at_least(upstream_url: str, n: int, timeout_s: float = 10) -> None:
    """Wait for the condition (an upstream working on n calls), not for a fixed time."""
    async with httpx.AsyncClient(base_url=upstream_url) as upstream, asyncio.timeout(timeout_s):
        while True:  # until it holds; the timeout ends a wait that never does
            if (await upstream.get("/stats")).json()["in_flight"] >= n:
                return
            await asyncio.sleep(0.01)


async def healthy_share_while_slow_calls_pile_up(stack: Stack) -> tuple[float, list[int]]:
    """12 patient callers of the slow route hold on; then 10 callers of the healthy route,
    who wait 1 s at most, ask. Returns the healthy route's share of 200s, and the slow
    route's statuses."""
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as client:
        slow = [
            asyncio.create_task(
                client.get(f"/recommendations/{i}", headers={"X-Deadline-Ms": "2500"})
            )
            for i in range(12)
        ]
        await in_flight_at_least(stack.recommendations, 6)  # the slow calls hold connections
        healthy = await asyncio.gather(
            *(client.get(f"/inventory/{i}", headers={"X-Deadline-Ms": "1000"}) for i in range(10))
        )
        slow_statuses = [r.status_code for r in await asyncio.gather(*slow)]
    return sum(r.status_code == 200 for r in healthy) / len(healthy), slow_statuses


# 12 connections: enough for everyone, unless one dependency may take them all.
SHARED = {"pool_size": 12, "retry_attempts": 1, "throttle": False, "request_timeout_s": 5}


async def test_with_bulkheads_the_healthy_route_keeps_answering(api: Callable[..., Stack]) -> None:
    # Each dependency may use 6 of the 12 connections; 10 more callers may wait for a slot.
    stack = api(recommendations=SLOW, bulkheads=True, bulkhead_size=6, bulkhead_queue=10,
                **SHARED)  # fmt: skip
    share, _ = await healthy_share_while_slow_calls_pile_up(stack)
    assert share == 1.0
    assert stack.stats("recommendations")["max_in_flight"] == 6  # never more than its share


async def test_without_bulkheads_the_slow_route_takes_every_connection(
    api: Callable[..., Stack],
) -> None:
    """The contrast: the same load with one shared pool and no per-dependency limit."""
    stack = api(recommendations=SLOW, bulkheads=False, **SHARED)
    share, _ = await healthy_share_while_slow_calls_pile_up(stack)
    assert share < 0.5


async def test_past_the_queue_the_server_sheds_with_503_and_retry_after(
    api: Callable[..., Stack],
) -> None:
    # A long deadline: the queued call waits 1.5 s for a slot, and that time counts.
    stack = api(inventory=Faults(latency_ms=1500), max_in_flight=2, max_queue=1,
                bulkheads=False, request_timeout_s=10)  # fmt: skip
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as client:
        calls = [asyncio.create_task(client.get(f"/inventory/{i}")) for i in range(6)]
        await in_flight_at_least(stack.inventory, 2)
        health = await client.get("/health")  # never queued, never shed
        answers = await asyncio.gather(*calls)
    assert health.status_code == 200
    assert sorted(r.status_code for r in answers) == [200] * 3 + [503] * 3
    shed = next(r for r in answers if r.status_code == 503)
    assert shed.headers["retry-after"] == "1"
    assert shed.json()["error"]["code"] == "overloaded"
