"""Sequential, gather and bounded fetching: same results, different overlap."""

from __future__ import annotations

import asyncio

import pytest

from asyncio_patterns.clients import CLIENTS, open_client
from asyncio_patterns.fetch import (
    Timing,
    bounded,
    fetch_gather,
    fetch_sequential,
    ideal_speedup,
    max_in_flight,
)
from tools.slow_server import SlowServer

URLS = [f"http://testserver/item/{i}" for i in range(10)]


class CountingUpstream:
    """An in-process `Get` that records how many requests overlap.

    Each request yields to the loop a few times before answering, so every task that *can*
    run concurrently gets the chance to: the peak is decided by the strategy, not by timing.
    """

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.urls: list[str] = []

    async def __call__(self, url: str) -> int:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.urls.append(url)
        for _ in range(5):
            await asyncio.sleep(0)
        self.in_flight -= 1
        return 404 if url.endswith("/7") else 200


@pytest.mark.parametrize(
    ("fetcher", "expected_peak"),
    [(fetch_sequential, 1), (fetch_gather, len(URLS)), (bounded(3), 3)],
    ids=["sequential", "gather", "bounded-3"],
)
async def test_strategy_decides_how_many_requests_overlap(fetcher, expected_peak) -> None:
    upstream = CountingUpstream()

    timings = await fetcher(upstream, URLS)

    assert upstream.peak == expected_peak
    # Whatever the overlap, every URL was fetched once and results come back in input order.
    assert sorted(upstream.urls) == sorted(URLS)
    assert [t.index for t in timings] == list(range(10))
    # A non-2xx answer is a result in its slot, not an exception.
    assert [t.status for t in timings] == [200] * 7 + [404] + [200] * 2


def test_bounded_rejects_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        bounded(0)


@pytest.mark.parametrize("client", CLIENTS)
async def test_bounded_fetch_against_the_real_local_server(
    slow_server: SlowServer, client: str
) -> None:
    urls = [f"{slow_server.url}/item/{i}" for i in range(8)]
    async with open_client(client, 8) as get:  # type: ignore[arg-type]
        timings = await bounded(2)(get, urls)

    assert [t.status for t in timings] == [200] * 8
    assert max_in_flight(timings) <= 2  # the semaphore's promise, read off real timings


async def test_an_unknown_client_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown client 'curl'"):
        async with open_client("curl", 1):  # type: ignore[arg-type]
            pass


@pytest.mark.parametrize(
    ("n", "limit", "ideal"), [(10, 3, 2.5), (100, 10, 10.0), (7, 5, 3.5), (3, 10, 3.0)]
)
def test_the_ideal_speedup_counts_rounds_not_the_limit(n: int, limit: int, ideal: float) -> None:
    # 10 requests 3 at a time go in 4 rounds (3 + 3 + 3 + 1): 10 / 4 = 2.5x, not 3x.
    assert ideal_speedup(n, limit) == ideal


def test_max_in_flight_counts_overlap_and_treats_touching_as_sequential() -> None:
    overlapping = [Timing(0, 0.0, 1.0, 200), Timing(1, 0.5, 1.5, 200), Timing(2, 0.6, 0.7, 200)]
    touching = [Timing(0, 0.0, 1.0, 200), Timing(1, 1.0, 2.0, 200)]

    assert max_in_flight(overlapping) == 3
    assert max_in_flight(touching) == 1
    assert max_in_flight([]) == 0
