"""Measure what concurrency buys for I/O-bound work, and what a task costs next to a thread.

    python bench.py           full run (~30 s), writes docs/timeline.png
    python bench.py --quick   small sizes, a few seconds, writes no plot

Every number is a median over repeats, after a warm-up, and every comparison is a ratio taken
in the same run, so the table holds on other machines even where the seconds do not.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from asyncio_patterns import loop_lag
from asyncio_patterns.cli import OneLineParser
from asyncio_patterns.fetch import (
    Fetcher,
    Timing,
    bounded,
    client_for,
    fetch_gather,
    fetch_sequential,
)
from asyncio_patterns.slow_server import SlowServer

DOCS = Path(__file__).resolve().parent / "docs"


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


async def fan_out(n: int, latency: float, limit: int, repeats: int) -> dict[str, list[Timing]]:
    """Time sequential, bounded and gather; return the median run's timings of each."""
    strategies: dict[str, tuple[Fetcher, int]] = {
        "sequential": (fetch_sequential, 1),
        f"bounded ({limit})": (bounded(limit), limit),
        "gather": (fetch_gather, n),
    }
    runs: dict[str, list[list[Timing]]] = {name: [] for name in strategies}
    cpu: dict[str, list[float]] = {name: [] for name in strategies}
    with SlowServer(delay=latency) as server:
        urls = [f"{server.url}/item/{i}" for i in range(n)]
        async with client_for(n) as client:
            await fetch_gather(client, urls)  # warm-up: opens the pool's connections once
            for _ in range(repeats):
                for name, (fetcher, _ideal) in strategies.items():
                    # process_time() is this process's CPU: the client's own work per run
                    # (the server is another process). Concurrency hides waiting, not CPU.
                    cpu_start = time.process_time()
                    runs[name].append(await fetcher(client, urls))
                    cpu[name].append(time.process_time() - cpu_start)
    medians = {}
    print(f"\nI/O fan-out: {n} calls to a local server answering in {latency * 1000:.0f} ms")
    print(f"(median of {repeats})")
    print(
        f"  {'strategy':<16}{'time':>10}{'speedup':>10}{'ideal':>8}{'of ideal':>10}"
        f"{'client CPU':>12}"
    )
    base = statistics.median(max(t.end for t in run) for run in runs["sequential"])
    for name, (_fetcher, ideal) in strategies.items():
        totals = [max(t.end for t in run) for run in runs[name]]
        total = statistics.median(totals)
        medians[name] = runs[name][totals.index(total)] if total in totals else runs[name][0]
        speedup = base / total
        client_cpu = statistics.median(cpu[name]) * 1000
        print(
            f"  {name:<16}{total:>9.3f}s{speedup:>9.1f}x{ideal:>7}x{speedup / ideal * 100:>9.0f}%"
            f"{client_cpu:>9.0f} ms"
        )
    return medians


def tasks_vs_threads(jobs: int, wait: float, repeats: int) -> None:
    """The same I/O-bound job (wait `wait` seconds) as N asyncio tasks or on N threads."""

    async def with_tasks() -> None:
        await asyncio.gather(*(asyncio.sleep(wait) for _ in range(jobs)))

    def with_threads(workers: int) -> None:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda _: time.sleep(wait), range(jobs)))

    contenders: dict[str, Callable[[], object]] = {
        f"{jobs} asyncio tasks": lambda: asyncio.run(with_tasks()),
        f"{jobs} threads": lambda: with_threads(jobs),
        "50 threads (pool)": lambda: with_threads(50),
    }
    print(
        f"\nTask vs thread: {jobs} jobs that each wait {wait * 1000:.0f} ms (median of {repeats})"
    )
    print(f"  {'how':<20}{'time':>10}{'jobs/s':>12}{'vs tasks':>10}")
    results = {}
    for name, run in contenders.items():
        run()  # warm-up
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            samples.append(time.perf_counter() - start)
        results[name] = statistics.median(samples)
    fastest = results[f"{jobs} asyncio tasks"]
    for name, seconds in results.items():
        ratio = seconds / fastest
        print(f"  {name:<20}{seconds:>9.3f}s{jobs / seconds:>12,.0f}{ratio:>9.1f}x slower")


async def lag(block: float) -> None:
    cases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        (f"time.sleep({block}) on the loop", lambda: loop_lag.blocking_sleep(block)),
        (f"asyncio.to_thread(time.sleep, {block})", lambda: loop_lag.offloaded_sleep(block)),
    ]
    print(f"\nLoop lag while a coroutine waits {block * 1000:.0f} ms (monitor wakes every 5 ms)")
    reports = [await loop_lag.measure(name, job) for name, job in cases]
    for r in reports:
        print(f"  {r.name:<40}worst lag {r.max_lag_ms:7.1f} ms, monitor ran {r.heartbeats:3d}x")
    ratio = reports[0].max_lag_ms / max(reports[1].max_lag_ms, 0.001)
    print(f"  blocking freezes the loop {ratio:,.0f}x longer than offloading")


def plot(timelines: dict[str, list[Timing]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(timelines), 1, figsize=(9, 7), sharex=True)
    for ax, (name, timings) in zip(axes, timelines.items(), strict=True):
        for t in timings:
            ax.broken_barh([(t.start * 1000, t.duration * 1000)], (t.index, 0.8))
        ax.set_title(f"{name}: {max(t.end for t in timings) * 1000:.0f} ms", fontsize=10)
        ax.set_ylabel("request")
        ax.invert_yaxis()
    axes[-1].set_xlabel("milliseconds since start")
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path.relative_to(Path(__file__).resolve().parent)}")


def main() -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args()
    n, latency, repeats, jobs = (30, 0.02, 1, 300) if args.quick else (100, 0.05, 3, 2000)
    print(machine())
    timelines = asyncio.run(fan_out(n, latency, limit=10, repeats=repeats))
    tasks_vs_threads(jobs, wait=0.01, repeats=repeats)
    asyncio.run(lag(0.05 if args.quick else 0.2))
    if not args.quick:
        plot(timelines, DOCS / "timeline.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
