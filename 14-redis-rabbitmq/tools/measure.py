"""Timing helpers for bench.py: a median of repeats, and rates."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable


def machine(redis_version: str, rabbit_version: str) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; Redis {redis_version}, "
        f"RabbitMQ {rabbit_version}\nload average (1/5/15 min): {load}"
    )


async def median_seconds(job: Callable[[], Awaitable[object]], repeats: int) -> float:
    """Median wall time of `repeats` runs of job, after one warm-up run."""
    await job()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        await job()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def ratio(slow: float, fast: float) -> str:
    return f"x{slow / fast:,.1f}" if fast > 0 else "n/a"
