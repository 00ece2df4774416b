"""Backfill a column on a table that is being written to: one UPDATE vs short batches.

    python bench.py            # 200k rows on PostgreSQL, writes docs/backfill.png
    python bench.py --quick    # 5k rows, a few seconds, no plot

While the backfill runs, a writer thread keeps updating random rows and inserting new
ones, as the app would. We time the backfill and every write it made meanwhile.
"""

from __future__ import annotations

import itertools
import os
import platform
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import URL, Engine, MetaData, Table, bindparam, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from evolve.backfill import backfill_in_batches, backfill_in_one_statement, member_emails_table
from evolve.diagnose import cannot_use
from evolve.settings import LESSON_DIR
from tools.cli import OneLineParser

COMPOSE_URL = "postgresql+psycopg://postgres:postgres@localhost:5432/lessons"
Backfill = Callable[[Engine, Table], object]


@dataclass(frozen=True)
class Run:
    seconds: float
    worst_wait_ms: float
    p99_wait_ms: float
    writes: int


class Writer(threading.Thread):
    """The app: one short autocommit write after another, each one timed."""

    def __init__(self, engine: Engine, table: Table, rows: int) -> None:
        super().__init__(daemon=True)
        self.engine, self.table, self.rows = engine, table, rows
        self.stop = threading.Event()
        self.recording = threading.Event()
        self.warm = threading.Event()
        self.waits: list[float] = []
        self.error: Exception | None = None

    def run(self) -> None:
        # A writer that died would record fewer, shorter waits and flatter the backfill:
        # keep its error so measure() refuses to report that run.
        try:
            self._write_until_stopped()
        except Exception as exc:
            self.error = exc

    def _write_until_stopped(self) -> None:
        rng = random.Random(4)
        t = self.table
        update = t.update().where(t.c.id == bindparam("row_id"))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for n in itertools.count(1):
                if self.stop.is_set():
                    return
                email = f"Moved{n}@Example.TEST"
                started = time.perf_counter()
                if n % 10:
                    # The new app version writes email_lower itself (dual write).
                    conn.execute(
                        update.values(email=email, email_lower=email.lower()),
                        {"row_id": rng.randint(1, self.rows)},
                    )
                else:
                    conn.execute(t.insert().values(email=email, email_lower=email.lower()))
                if self.recording.is_set():
                    self.waits.append(time.perf_counter() - started)
                if n >= 20:
                    self.warm.set()
                # Steady traffic, not a tight loop: leave CPU for the backfill on small machines.
                time.sleep(0.001)


def prepare(engine: Engine, rows: int) -> Table:
    table = member_emails_table("bench_members", MetaData())
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
        conn.execute(
            text(
                "INSERT INTO bench_members (email) "
                "SELECT 'User' || g || '@Example.TEST' FROM generate_series(1, :n) AS g"
            ),
            {"n": rows},
        )
        conn.execute(text("ANALYZE bench_members"))
    return table


def measure(engine: Engine, rows: int, backfill: Backfill) -> Run:
    table = prepare(engine, rows)
    writer = Writer(engine, table, rows)
    writer.start()
    # Wait for a condition (the writer is up and running), not for a fixed time.
    deadline = time.monotonic() + 30
    while not writer.warm.wait(timeout=0.05):
        if not writer.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the writer thread stopped before it got going")
    writer.recording.set()
    started = time.perf_counter()
    try:
        backfill(engine, table)
        seconds = time.perf_counter() - started
    finally:
        # Stopped also when the backfill fails, so no thread outlives its measurement.
        writer.stop.set()
        writer.join(timeout=60)
    if writer.error is not None:
        raise RuntimeError(f"the writer thread failed: {writer.error!r}") from writer.error
    waits = sorted(writer.waits) or [0.0]
    p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    return Run(seconds, waits[-1] * 1000, p99 * 1000, len(writer.waits))


def machine_header() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


def server_url() -> URL:
    configured = os.environ.get("DATABASE_URL", "")
    url = make_url(configured if configured.startswith("postgresql") else COMPOSE_URL)
    return url.set(drivername="postgresql+psycopg", database="postgres")


def throwaway_database(server: URL) -> tuple[Engine, Callable[[], None]]:
    """A fresh database for the bench, and the function that drops it."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"bench_04_alembic_{uuid.uuid4().hex[:12]}"
    try:
        conn = admin.connect()
    except DBAPIError as exc:
        # Not reachable, login refused or no maintenance database: each has its own fix.
        print(cannot_use(server, str(exc.orig)), file=sys.stderr)
        raise SystemExit(1) from None
    with conn:
        try:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        except DBAPIError as exc:
            # The server is up and let us in; this user may not create databases.
            shown = server.render_as_string(hide_password=True)
            reason = str(exc.orig).strip().splitlines()[0]
            print(
                f"PostgreSQL at {shown} refused CREATE DATABASE ({reason})"
                " - the bench needs a user allowed to create databases",
                file=sys.stderr,
            )
            raise SystemExit(1) from None
    engine = create_engine(server.set(database=name), pool_size=4)

    def drop() -> None:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return engine, drop


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small table, no plot (for CI)")
    parser.add_argument("--rows", type=int, help="rows in the table (default 200000, quick 5000)")
    parser.add_argument("--repeats", type=int, help="timed runs per method (default 3, quick 2)")
    args = parser.parse_args(argv)
    # `is None`, not `or`: an explicit 0 is a mistake to report, not a request for the default.
    rows = (5_000 if args.quick else 200_000) if args.rows is None else args.rows
    repeats = (2 if args.quick else 3) if args.repeats is None else args.repeats
    if rows < 100 or repeats < 1:
        parser.error("--rows must be at least 100 and --repeats at least 1")
    small, large = (100, 1_000) if args.quick else (1_000, 10_000)
    methods: dict[str, Backfill] = {
        "one UPDATE": backfill_in_one_statement,
        f"batches of {large:,}": lambda e, t: backfill_in_batches(e, t, large),
        f"batches of {small:,}": lambda e, t: backfill_in_batches(e, t, small),
    }

    print(machine_header())
    print(f"table: {rows:,} rows, PostgreSQL; writer: random-row UPDATEs + INSERTs, autocommit")
    engine, drop = throwaway_database(server_url())
    try:
        for backfill in methods.values():  # warm-up: caches, plans, connections
            measure(engine, rows, backfill)
        results = {
            name: [measure(engine, rows, f) for _ in range(repeats)] for name, f in methods.items()
        }
    finally:
        drop()
    report(results, repeats)
    if not args.quick:
        plot(results)
    return 0


def median_run(runs: list[Run]) -> Run:
    """The run with the median backfill time, reported whole.

    A median per column could pair one run's time with another run's waits and writes;
    a table row should be something that happened. With an even count, the lower middle.
    """
    ordered = sorted(runs, key=lambda run: run.seconds)
    return ordered[(len(ordered) - 1) // 2]


def compare_wait(base_ms: float, ms: float) -> str:
    """The worst wait against the baseline's, worded the right way round."""
    if ms <= base_ms:
        return f"{base_ms / max(ms, 0.001):.1f}x shorter"
    return f"{ms / max(base_ms, 0.001):.1f}x longer"


def report(results: dict[str, list[Run]], repeats: int) -> None:
    medians = {name: median_run(runs) for name, runs in results.items()}
    base = medians["one UPDATE"]
    print(f"\nmedian run of {repeats} (by backfill time), ratios against one UPDATE")
    print(
        f"{'method':<18} {'backfill s':>10} {'worst wait ms':>14} {'p99 wait ms':>12} "
        f"{'writes':>7}  {'backfill time':>13}  {'worst wait':>13}"
    )
    for name, m in medians.items():
        if m is base:
            ratios = f"{'baseline':>13}  {'baseline':>13}"
        else:
            ratios = (
                f"{m.seconds / base.seconds:>12.2f}x  "
                f"{compare_wait(base.worst_wait_ms, m.worst_wait_ms):>13}"
            )
        print(
            f"{name:<18} {m.seconds:>10.2f} {m.worst_wait_ms:>14.1f} {m.p99_wait_ms:>12.1f} "
            f"{m.writes:>7}  {ratios}"
        )


def plot(results: dict[str, list[Run]]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    medians = {name: median_run(runs) for name, runs in results.items()}
    names = list(medians)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.bar(names, [m.seconds for m in medians.values()], color="#4c72b0")
    left.set_title("backfill time (s)")
    right.bar(names, [m.worst_wait_ms for m in medians.values()], color="#dd8452")
    right.set_yscale("log")
    right.set_title("writer's worst wait during the backfill (ms, log)")
    fig.suptitle("Backfilling a column while the app writes: one UPDATE vs batches")
    fig.tight_layout()
    out = LESSON_DIR / "docs" / "backfill.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"plot: {out.relative_to(LESSON_DIR)}")


if __name__ == "__main__":
    sys.exit(main())
