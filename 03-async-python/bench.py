"""Measure what concurrency buys for I/O-bound work, where the client's CPU goes, and what a
task costs next to a thread.

    python bench.py           full run (about a minute), writes docs/timeline.png
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
from dataclasses import dataclass
from pathlib import Path

from asyncio_patterns import loop_lag
from asyncio_patterns.clients import CLIENTS, open_client
from asyncio_patterns.fetch import (
    Fetcher,
    Timing,
    bounded,
    fetch_gather,
    fetch_sequential,
    ideal_speedup,
)
from tools.cli import OneLineParser
from tools.slow_server import SlowServer

DOCS = Path(__file__).resolve().parent / "docs"
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


def cpu_of(pid: int | None) -> float:
    """CPU seconds (user + system) another process has used so far, from /proc; NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime in clock ticks


@dataclass
class Run:
    wall: float  # seconds
    client_cpu: float  # this process's CPU seconds: the client's own work
    server_cpu: float  # the server process's CPU seconds, from /proc
    timings: list[Timing]


async def measure(fetcher: Fetcher, get: Callable[[str], Awaitable[int]], urls: list[str],
                  server_pid: int | None) -> Run:  # fmt: skip
    # process_time() is this process's CPU: the client's work (the server is another process).
    cpu, server, t0 = time.process_time(), cpu_of(server_pid), time.perf_counter()
    timings = await fetcher(get, urls)
    wall = time.perf_counter() - t0
    return Run(wall, time.process_time() - cpu, cpu_of(server_pid) - server, timings)


async def fan_out(n: int, latency: float, limit: int, repeats: int) -> dict[str, list[Timing]]:
    """Sequential, bounded and gather on each client; return aiohttp's median timelines."""
    strategies: dict[str, tuple[Fetcher, float]] = {
        "sequential": (fetch_sequential, 1.0),
        f"bounded ({limit})": (bounded(limit), ideal_speedup(n, limit)),
        "gather": (fetch_gather, float(n)),
    }
    print(f"\nI/O fan-out: {n} calls to a local server answering in {latency * 1000:.0f} ms")
    print(f"(median of {repeats}; sequential: 1 run; CPU per request in ms; busy = client CPU /")
    print(" wall time, the share of the run the client spent computing instead of waiting)")
    print(
        f"  {'client':<9}{'strategy':<14}{'time':>8}{'speedup':>9}{'ideal':>7}{'of ideal':>10}"
        f"{'client CPU':>12}{'busy':>6}{'server CPU':>12}"
    )
    timelines: dict[str, list[Timing]] = {}
    with SlowServer(delay=latency) as server:
        urls = [f"{server.url}/item/{i}" for i in range(n)]
        for client in CLIENTS:
            async with open_client(client, n) as get:
                await fetch_gather(get, urls)  # warm-up: opens the pool's connections once
                runs: dict[str, list[Run]] = {name: [] for name in strategies}
                for round_ in range(repeats):
                    for name, (fetcher, _ideal) in strategies.items():
                        if name == "sequential" and round_ > 0:
                            continue  # n x latency: one run is enough, the spread is small
                        runs[name].append(await measure(fetcher, get, urls, server.pid))
            base = runs["sequential"][0].wall
            for name, (_fetcher, ideal) in strategies.items():
                run = sorted(runs[name], key=lambda r: r.wall)[len(runs[name]) // 2]  # median
                speedup = base / run.wall
                print(
                    f"  {client:<9}{name:<14}{run.wall:>7.3f}s{speedup:>8.1f}x{ideal:>6.3g}x"
                    f"{speedup / ideal * 100:>9.0f}%{run.client_cpu / n * 1000:>12.2f}"
                    f"{run.client_cpu / run.wall * 100:>5.0f}%{run.server_cpu / n * 1000:>12.2f}"
                )
                if client == CLIENTS[0]:
                    timelines[name] = run.timings
    return timelines


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
