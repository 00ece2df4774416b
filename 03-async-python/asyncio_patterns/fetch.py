"""Three ways to fetch N URLs: one after another, all at once, and at most `limit` at once.

Each strategy returns the same thing, one `Timing` per URL in input order, so a test can compare
results and the timeline can draw them. Only the shape of the waiting differs. The strategies
take a `Get` - any coroutine function that fetches a URL and returns its status - so the same
code runs on aiohttp, httpx or a fake (`clients.open_client` makes one).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

Get = Callable[[str], Awaitable[int]]  # fetch one URL, return the HTTP status


@dataclass(frozen=True)
class Timing:
    index: int
    start: float  # seconds since the run began
    end: float
    status: int

    @property
    def duration(self) -> float:
        return self.end - self.start


Fetcher = Callable[[Get, Sequence[str]], Awaitable[list[Timing]]]


async def _timed_get(get: Get, index: int, url: str, t0: float) -> Timing:
    start = time.perf_counter() - t0
    # A non-2xx answer is a result, not a crash: it is returned in Timing.status.
    status = await get(url)
    return Timing(index, start, time.perf_counter() - t0, status)


async def fetch_sequential(get: Get, urls: Sequence[str]) -> list[Timing]:
    """`await` in a loop: correct, simple, and every wait adds up."""
    t0 = time.perf_counter()
    return [await _timed_get(get, i, url, t0) for i, url in enumerate(urls)]


async def fetch_gather(get: Get, urls: Sequence[str]) -> list[Timing]:
    """All requests in flight at once. gather() keeps the input order in its result."""
    t0 = time.perf_counter()
    return list(await asyncio.gather(*(_timed_get(get, i, u, t0) for i, u in enumerate(urls))))


def bounded(limit: int) -> Fetcher:
    """A fetcher that keeps at most `limit` requests in flight (a Semaphore guards each one).

    Unbounded gather() against a real API is how you get rate-limited or exhaust a pool:
    the bound is the polite, production shape of "concurrent".
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")

    async def fetch_bounded(get: Get, urls: Sequence[str]) -> list[Timing]:
        semaphore = asyncio.Semaphore(limit)
        t0 = time.perf_counter()

        async def one(index: int, url: str) -> Timing:
            async with semaphore:
                return await _timed_get(get, index, url, t0)

        # TaskGroup (3.11+): if one request raises, the others are cancelled, nothing leaks.
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(i, url)) for i, url in enumerate(urls)]
        return [task.result() for task in tasks]

    return fetch_bounded


def ideal_speedup(n: int, limit: int) -> float:
    """The best `limit` at once can do for n equal requests: they go in ceil(n / limit) rounds.

    10 requests 3 at a time take 4 rounds (3 + 3 + 3 + 1), so 10 / 4 = 2.5x, not 3x.
    """
    if n < 1 or limit < 1:
        raise ValueError(f"n and limit must be at least 1, got {n} and {limit}")
    return n / math.ceil(n / limit)


def max_in_flight(timings: Sequence[Timing]) -> int:
    """The largest number of requests that overlapped in time, read off the timings."""
    events = sorted([(t.start, 1) for t in timings] + [(t.end, -1) for t in timings])
    current = peak = 0
    for _, step in events:  # an end sorts before a start at the same instant (-1 < 1)
        current += step
        peak = max(peak, current)
    return peak
