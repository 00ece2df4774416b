"""Load for the demo and the bench: many aiohttp callers, their statuses and latencies.

aiohttp, because on 2 cores a client that burns a millisecond of CPU per request (httpx
does, about) would be measuring itself instead of the server.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from resilience.retry import RetryBudget, RetryPolicy, call_with_retries


@dataclass
class Load:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def success(self) -> float:
        return self.ok / self.sent if self.sent else 0.0

    def percentile_ms(self, q: int) -> float:
        if len(self.latencies_s) < 2:
            return self.latencies_s[0] * 1000 if self.latencies_s else 0.0
        return statistics.quantiles(self.latencies_s, n=100, method="inclusive")[q - 1] * 1000

    def record(self, status: int, started: float) -> None:
        self.statuses[status] += 1
        self.latencies_s.append(time.perf_counter() - started)


async def get(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> int:
    """One GET; a status, or 599 for no answer at all (refused, reset, timed out)."""
    try:
        async with session.get(url, headers=headers) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return 599


async def fixed_count(
    session: aiohttp.ClientSession,
    url_for: Callable[[int], str],
    n: int,
    concurrency: int,
    headers: dict[str, str] | None = None,
) -> Load:
    """``n`` GETs, ``concurrency`` at a time."""
    load, queue = Load(), iter(range(n))

    async def caller() -> None:
        for i in queue:
            started = time.perf_counter()
            load.record(await get(session, url_for(i), headers or {}), started)

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return load


async def for_seconds(
    session: aiohttp.ClientSession,
    url_for: Callable[[int], str],
    seconds: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
    honour_retry_after: bool = False,
) -> Load:
    """Closed loop for ``seconds``: each caller sends its next request when the last is done
    (after the Retry-After a 503 or 429 named, if ``honour_retry_after``)."""
    load, end, counter = Load(), time.perf_counter() + seconds, iter(range(10**12))

    async def caller() -> None:
        while time.perf_counter() < end:
            started = time.perf_counter()
            status = await get(session, url_for(next(counter)), headers or {})
            load.record(status, started)
            if honour_retry_after and status in (429, 503):
                await asyncio.sleep(min(1.0, max(0.0, end - time.perf_counter())))

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return load


async def with_retries(
    session: aiohttp.ClientSession,
    url: str,
    n: int,
    concurrency: int,
    policy: RetryPolicy,
    budget: RetryBudget | None,
    seed: int = 1,
) -> Load:
    """``n`` logical GETs straight to an upstream, each through ``call_with_retries``."""
    load, queue, rng = Load(), iter(range(n)), random.Random(seed)

    async def attempt(seconds_left: float) -> int:
        return await get(session, url, {})

    async def caller() -> None:
        for _ in queue:
            started = time.perf_counter()
            outcome = await call_with_retries(
                attempt, lambda s: s, method="GET", policy=policy, budget=budget, rng=rng
            )
            load.record(outcome.result if outcome.result is not None else 599, started)

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return load
