"""Sequential, gather and bounded fetching: same results, different overlap."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from asyncio_patterns.fetch import (
    Timing,
    bounded,
    client_for,
    fetch_gather,
    fetch_sequential,
    max_in_flight,
)
from asyncio_patterns.slow_server import SlowServer

URLS = [f"http://testserver/item/{i}" for i in range(10)]


class CountingTransport(httpx.AsyncBaseTransport):
    """An in-process upstream that records how many requests overlap.

    Each request yields to the loop a few times before answering, so every task that *can*
    run concurrently gets the chance to: the peak is decided by the strategy, not by timing.
    """

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.paths.append(request.url.path)
        for _ in range(5):
            await asyncio.sleep(0)
        self.in_flight -= 1
        return httpx.Response(200, json={"path": request.url.path})


@pytest.mark.parametrize(
    ("fetcher", "expected_peak"),
    [(fetch_sequential, 1), (fetch_gather, len(URLS)), (bounded(3), 3)],
    ids=["sequential", "gather", "bounded-3"],
)
async def test_strategy_decides_how_many_requests_overlap(fetcher, expected_peak) -> None:
    transport = CountingTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        timings = await fetcher(client, URLS)

    assert transport.peak == expected_peak
    # Whatever the overlap, every URL was fetched once and results come back in input order.
    assert sorted(transport.paths) == sorted(f"/item/{i}" for i in range(10))
    assert [t.index for t in timings] == list(range(10))
    assert {t.status for t in timings} == {200}


def test_bounded_rejects_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        bounded(0)


async def test_bounded_fetch_against_the_real_local_server(slow_server: SlowServer) -> None:
    urls = [f"{slow_server.url}/item/{i}" for i in range(8)]
    async with client_for(8) as client:
        timings = await bounded(2)(client, urls)
        echoed = (await client.get(urls[5])).json()

    assert [t.status for t in timings] == [200] * 8
    assert max_in_flight(timings) <= 2  # the semaphore's promise, read off real timings
    assert echoed["path"] == "/item/5"


def test_max_in_flight_counts_overlap_and_treats_touching_as_sequential() -> None:
    overlapping = [Timing(0, 0.0, 1.0, 200), Timing(1, 0.5, 1.5, 200), Timing(2, 0.6, 0.7, 200)]
    touching = [Timing(0, 0.0, 1.0, 200), Timing(1, 1.0, 2.0, 200)]

    assert max_in_flight(overlapping) == 3
    assert max_in_flight(touching) == 1
    assert max_in_flight([]) == 0
