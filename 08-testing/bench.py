"""What test-suite choices cost, measured side by side on this machine.

1. Isolation, per test: a transaction rolled back vs a fresh database (SQLite, PostgreSQL).
2. The unit tier's repository: the same unit-sized test (seed a product, place an order)
   on the fake vs on SQLite and PostgreSQL with rollback.
3. Full run only, as whole pytest runs: the integration tier with ``--db-isolation=rollback``
   vs ``recreate``, and the suite serial vs ``-n 2`` (pytest-xdist).
4. Full run only: the mutation score of orders/domain.py, measured by running mutmut now
   (the code ``python main.py mutate`` runs), so it always belongs to the code as it is.

    python bench.py            full run, writes docs/bench.png
    python bench.py --quick    in-process measurements only, small sizes, no plot (CI)
"""

from __future__ import annotations

import asyncio
import itertools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool

from orders.db import create_engine
from orders.domain import Product
from orders.repository import OrderRepository, SqlRepository
from orders.service import OrderRequest, OrderService
from testkit.dbtools import (
    create_database,
    create_schema,
    drop_database,
    postgres_reachable,
    rollback_session,
)
from testkit.fakes import FakeClock, FakePayments, FakeRepository, RecordingNotifier
from tools.cli import OneLineParser
from tools.mutation import MutationRunFailed, run_mutation

LESSON = Path(__file__).resolve().parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "--no-cov", "-p", "no:randomly"]
PYTEST += ["-p", "no:cacheprovider"]


def header() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    python = platform.python_version()
    print(f"machine: {os.cpu_count()} cores, Python {python}, {platform.platform()}")
    print(f"load average (1, 5, 15 min): {load}")


def pytest_seconds(args: list[str]) -> float:
    """Run pytest once and return its wall-clock time."""
    start = time.perf_counter()
    done = subprocess.run([*PYTEST, *args], cwd=LESSON, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench: pytest {' '.join(args)} failed:\n{done.stdout[-2000:]}")
    return wall


def median_of(repeat: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeat))


async def one_unit_test(repo: OrderRepository) -> None:
    """What a unit test does: seed a product, place an order through the service."""
    await repo.add_product(Product("MUG", "Mug", 9_50, 1_000))
    service = OrderService(
        repo, FakePayments(), FakeClock(datetime(2026, 3, 1, tzinfo=UTC)), RecordingNotifier()
    )
    await service.place_order(OrderRequest("ada@example.com", [("MUG", 2)]))


async def per_test_seconds(run_one: Callable[[], Awaitable[None]], n: int, repeat: int) -> float:
    await run_one()  # warm-up: imports, connection setup, statement caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            await run_one()
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


async def in_process(
    n: int, repeat: int, pg_server: str | None
) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Per-test cost, measured in this process: no pytest start-up in the numbers.

    Returns (isolation, repositories): rollback vs a fresh database per test, and the fake
    vs real databases behind the same unit-sized test.
    """

    async def fake() -> None:
        await one_unit_test(FakeRepository())

    repositories = {"fake repository": await per_test_seconds(fake, n, repeat)}
    isolation: dict[str, tuple[float, float]] = {}  # backend -> (rollback, fresh database)
    counter = itertools.count()
    with tempfile.TemporaryDirectory() as tmp:
        servers = {"SQLite": None, "PostgreSQL": pg_server} if pg_server else {"SQLite": None}
        for backend, server in servers.items():
            shared = create_database(server) if server else f"sqlite:///{Path(tmp) / 'shared.db'}"
            engine = create_engine(shared, poolclass=NullPool)

            async def rollback(engine: AsyncEngine = engine) -> None:
                async with rollback_session(engine) as session:
                    await one_unit_test(SqlRepository(session))

            async def recreate(server: str | None = server) -> None:
                fresh_file = Path(tmp) / f"fresh-{next(counter)}.db"  # removed with tmp
                url = create_database(server) if server else f"sqlite:///{fresh_file}"
                fresh = create_engine(url, poolclass=NullPool)
                try:  # a failed run must not leave test_08_testing_* databases behind
                    create_schema(url)
                    async with AsyncSession(fresh) as session:
                        await one_unit_test(SqlRepository(session))
                finally:
                    await fresh.dispose()
                    if server:
                        drop_database(server, url)

            try:
                create_schema(shared)
                per_test = await per_test_seconds(rollback, n, repeat)
                repositories[f"{backend}, rollback"] = per_test
                # A fresh database is slow; fewer runs keep the bench short, medians stay fair.
                fresh = await per_test_seconds(recreate, max(2, n // 10), repeat)
                isolation[backend] = (per_test, fresh)
            finally:
                await engine.dispose()
                if server:
                    drop_database(server, shared)
    return isolation, repositories


def table(title: str, rows: dict[str, float], unit: str, scale: float) -> None:
    base = min(rows.values())
    print(f"\n{title}")
    print(f"  {'variant':<40} {'median ' + unit:>12} {'vs best':>8}")
    for label, value in rows.items():
        print(f"  {label:<40} {value * scale:>12.2f} {value / base:>7.1f}x")


def plot(results: dict[str, tuple[dict[str, float], str, float]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 1, figsize=(8, 2.2 * len(results)))
    for ax, (title, (rows, unit, scale)) in zip(axes, results.items(), strict=True):
        labels, values = list(rows), [v * scale for v in rows.values()]
        ax.barh(labels, values, color=["#4c72b0", "#dd8452", "#55a868"][: len(values)])
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_xlabel(unit)
        ax.invert_yaxis()
    fig.tight_layout()
    out = LESSON / "docs" / "bench.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=110)
    return out


def postgres_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = "postgresql://postgres:postgres@localhost:5432/postgres"
    return url if postgres_reachable(url) else None


def main() -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    header()
    pg = postgres_server()
    print(f"postgres: {'reachable' if pg else 'not reachable, SQLite only'}; repeats: {repeat}")

    n = 10 if args.quick else 100
    isolation, repos = asyncio.run(in_process(n, repeat, pg))
    print("\nper test: isolate by rolling back, or by a fresh database")
    print(f"  {'backend':<12} {'rollback ms':>12} {'fresh db ms':>12} {'fresh / rollback':>17}")
    for backend, (rollback, fresh) in isolation.items():
        ms = f"{rollback * 1000:>12.2f} {fresh * 1000:>12.2f}"
        print(f"  {backend:<12} {ms} {fresh / rollback:>16.1f}x")
    table("per test: seed + place an order, by repository", repos, "ms", 1000)
    isolation_rows = {
        f"{backend}, {way}": seconds
        for backend, pair in isolation.items()
        for way, seconds in zip(("rollback", "fresh database"), pair, strict=True)
    }
    results = {
        "isolation, per test (ms)": (isolation_rows, "ms", 1000.0),
        "repository for a unit test (ms)": (repos, "ms", 1000.0),
    }

    if not args.quick:
        # The same comparisons as a learner feels them: whole pytest runs, start-up included.
        skip_pg = [] if pg else ["-k", "not postgres"]
        tier = ["tests/integration", *skip_pg]
        suite_isolation = {
            "integration tier, rollback": median_of(
                repeat, lambda: pytest_seconds([*tier, "--db-isolation=rollback"])
            ),
            "integration tier, fresh database": median_of(
                repeat, lambda: pytest_seconds([*tier, "--db-isolation=recreate"])
            ),
        }
        table("pytest wall clock: isolation strategy", suite_isolation, "s", 1)
        parallel = {
            "whole suite, serial": median_of(repeat, lambda: pytest_seconds(skip_pg)),
            "whole suite, -n 2": median_of(repeat, lambda: pytest_seconds([*skip_pg, "-n", "2"])),
        }
        table("pytest wall clock: serial vs xdist", parallel, "s", 1)
        results["pytest runs (s)"] = ({**suite_isolation, **parallel}, "s", 1.0)

    if args.quick:
        # A score read from an earlier run would describe code that may have changed since.
        print(
            "\norders/domain.py mutation score: measured by the full run"
            " (or: python main.py mutate)"
        )
        return 0
    print("\norders/domain.py, mutmut run now:", flush=True)
    start = time.perf_counter()
    try:
        score = run_mutation(max_children=2)
    except MutationRunFailed as exc:
        raise SystemExit(f"bench: {exc}") from None
    print(f"  {score}  ({time.perf_counter() - start:.0f} s)")
    print(f"plot: {plot(results).relative_to(LESSON)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
