"""An I/O-bound job: many calls that mostly wait, run four ways.

``time.sleep`` stands in for a blocking network or disk call: like a socket read, it releases
the GIL while it waits, so threads overlap the waits. asyncio overlaps them on one thread with
no thread per call; processes overlap them too, but only as many as there are processes, and
each one costs an interpreter. Latency is the knob: the work per call is ~0.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from parallel.executors import Strategy, run_map


def fetch(item: tuple[int, float]) -> int:
    """A blocking 'request': wait `latency` seconds, return a value derived from the id."""
    ident, latency = item
    time.sleep(latency)
    return ident * ident


async def afetch(item: tuple[int, float], limit: asyncio.Semaphore) -> int:
    ident, latency = item
    async with limit:  # cap concurrency as a client pool would
        await asyncio.sleep(latency)
    return ident * ident


async def _gather(items: list[tuple[int, float]], concurrency: int) -> list[int]:
    limit = asyncio.Semaphore(concurrency)
    return list(await asyncio.gather(*(afetch(i, limit) for i in items)))


def run_io(strategy: Strategy | str, calls: int, latency: float, workers: int) -> list[int]:
    """Results of `calls` requests, in order; `workers` = threads, processes or async slots."""
    items = [(i, latency) for i in range(calls)]
    if strategy == "asyncio":
        return asyncio.run(_gather(items, workers))
    run = partial(run_map, fetch, items, workers=workers)
    if strategy in ("serial", "threads", "processes"):
        return run(strategy=strategy)  # type: ignore[arg-type]
    raise ValueError(f"unknown strategy {strategy!r}")
