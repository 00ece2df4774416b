"""Measure what a scheduler's choices cost: start delay on an idle vs a busy pool, a CPU-bound job
on threads vs processes, the job store's price per job, and how fast one scheduler fires.

    python bench.py           full run (about a minute), writes docs/delays.png
    python bench.py --quick   small sizes, a few seconds, writes no plot

Each comparison is measured in the same run and reported as a ratio, so it holds on other
machines even where the milliseconds do not.
"""

from __future__ import annotations

import logging
import os
import platform
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import make_url

from cli import OneLineParser
from scheduling.factory import build_scheduler, memory_store
from scheduling.settings import Settings, load_settings

DOCS = Path(__file__).resolve().parent / "docs"
POSTGRES = "postgresql+psycopg://postgres:postgres@localhost:5432/postgres"


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Delays:
    """Start delay of every `tick` run: when it ran minus when it was due."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.values: list[float] = []
        self.done = threading.Event()
        self.expected = 0
        scheduler.add_listener(self._on_run, EVENT_JOB_EXECUTED)

    def _on_run(self, event: JobExecutionEvent) -> None:
        if isinstance(event.retval, float):  # tick() returns when it ran
            self.values.append(event.retval - event.scheduled_run_time.timestamp())
            if len(self.values) >= self.expected:
                self.done.set()


@contextmanager
def scheduler_on(settings: Settings, store: object | None = None) -> Iterator[BaseScheduler]:
    scheduler = build_scheduler(settings, store=store or memory_store())
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


def start_delays(settings: Settings, ticks: int, background: Callable[[BaseScheduler], None]
                 ) -> list[float]:  # fmt: skip
    """`ticks` one-off jobs due 10 ms apart, with `background` load added to the same scheduler."""
    with scheduler_on(settings) as scheduler:
        delays = Delays(scheduler)
        delays.expected = ticks
        background(scheduler)
        first = datetime.now(UTC) + timedelta(seconds=0.3)
        for i in range(ticks):
            scheduler.add_job("scheduling.tasks:tick", "date",
                              run_date=first + timedelta(milliseconds=10 * i))  # fmt: skip
        delays.done.wait(timeout=120)
        scheduler.remove_all_jobs()
    return [d * 1000 for d in delays.values]


def idle(_: BaseScheduler) -> None:
    pass


def busy_pool(scheduler: BaseScheduler) -> None:
    # Jobs of 0.2 s arriving faster than 4 threads finish them: the pool is never free.
    scheduler.add_job("scheduling.tasks:overrun", "interval", seconds=0.05, args=[0.2],
                      max_instances=50)  # fmt: skip


def cpu_on(executor: str, n: int) -> Callable[[BaseScheduler], None]:
    def load(scheduler: BaseScheduler) -> None:
        for _ in range(2):
            scheduler.add_job("scheduling.tasks:cpu_burn", "interval", seconds=0.05, args=[n],
                              executor=executor, max_instances=2)  # fmt: skip

    return load


def store_cost(settings: Settings, jobs: int, memory: bool) -> tuple[float, float]:
    """(ms per add_job, jobs fired per second) on the settings' database or in memory."""
    scheduler = build_scheduler(settings, store=memory_store() if memory else None)
    scheduler.start(paused=True)
    scheduler.remove_all_jobs()
    done = threading.Event()
    fired = [0]

    def count(_: JobExecutionEvent) -> None:
        fired[0] += 1
        if fired[0] == jobs:
            done.set()

    scheduler.add_listener(count, EVENT_JOB_EXECUTED)
    due = datetime.now(UTC)
    t0 = time.perf_counter()
    for i in range(jobs):
        # No grace limit: with a slow store the last runs start late, and must not be "missed".
        scheduler.add_job("scheduling.tasks:send_report", "date", run_date=due, id=f"j{i}",
                          misfire_grace_time=None)  # fmt: skip
    add_ms = (time.perf_counter() - t0) * 1000 / jobs
    t0 = time.perf_counter()
    scheduler.resume()
    done.wait(timeout=300)
    rate = jobs / (time.perf_counter() - t0)
    scheduler.shutdown(wait=True)
    return add_ms, rate


@contextmanager
def stores() -> Iterator[list[tuple[str, Settings | None]]]:
    """Memory, a SQLite file and (when it answers) a throwaway PostgreSQL database."""
    import psycopg

    with tempfile.TemporaryDirectory() as tmp:
        out: list[tuple[str, Settings | None]] = [
            ("memory", None),
            ("SQLite file", load_settings(database_url=f"sqlite:///{tmp}/bench.db")),
        ]
        name = f"bench_11_apscheduler_{secrets.token_hex(4)}"
        admin = make_url(POSTGRES).set(drivername="postgresql").render_as_string(False)
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError:
            name = ""
        if name:
            url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
            out.append(("PostgreSQL", load_settings(database_url=url)))
        try:
            yield out
        finally:
            if name:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = OneLineParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args()
    ticks, jobs, burn = (40, 100, 200_000) if args.quick else (300, 500, 2_000_000)
    settings = load_settings(database_url=f"sqlite:///{tempfile.gettempdir()}/bench-11.db")
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)  # overlaps are the point here
    print(machine())
    print(f"{ticks} one-off jobs due 10 ms apart, 4 threads; start delay = ran - due\n")
    scenarios = {
        "idle pool": idle,
        "busy pool (0.2 s jobs every 50 ms)": busy_pool,
        "CPU-bound job on the thread pool": cpu_on("default", burn),
        "CPU-bound job on the process pool": cpu_on("processpool", burn),
    }
    results = {name: start_delays(settings, ticks, load) for name, load in scenarios.items()}
    base = statistics.median(results["idle pool"])
    print(f"{'scenario':<36}{'p50 ms':>9}{'p99 ms':>9}{'p50 vs idle':>13}")
    for name, values in results.items():
        p50 = statistics.median(values)
        print(f"{name:<36}{p50:>9.2f}{pct(values, 0.99):>9.2f}{p50 / base:>12.1f}x")

    print(f"\njob store: {jobs} jobs added, then all fired at once")
    print(f"{'store':<14}{'add ms/job':>12}{'fired/s':>10}{'add vs memory':>15}")
    with stores() as kinds:
        first_add = None
        for label, store_settings in kinds:
            add_ms, rate = store_cost(store_settings or settings, jobs, store_settings is None)
            first_add = first_add or add_ms
            print(f"{label:<14}{add_ms:>12.3f}{rate:>10.0f}{add_ms / first_add:>14.1f}x")

    if not args.quick:
        plot(results)
    return 0


def plot(results: dict[str, list[float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, values in results.items():
        ordered = sorted(values)
        ax.plot(ordered, [i / len(ordered) for i in range(len(ordered))], label=name)
    ax.set_xscale("log")
    ax.set_xlabel("start delay, ms (log)")
    ax.set_ylabel("share of runs")
    ax.set_title("When a job actually starts, by what else the scheduler is doing")
    ax.legend()
    fig.tight_layout()
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / "delays.png", dpi=120)
    print(f"\nplot: {DOCS / 'delays.png'}")


if __name__ == "__main__":
    raise SystemExit(main())
