"""Measure what the lesson claims, on SQLite and (when it answers) PostgreSQL.

    python bench.py            # full run, writes docs/bench.png
    python bench.py --quick    # small sizes for CI, no plot

1. N+1: lazy loading vs selectinload vs joinedload (statements and time)
2. Inserting rows: commit per row vs one commit vs insert() with a list vs Core executemany
3. Connection checkout: QueuePool (without, then with pre-ping) vs NullPool
4. Pagination: OFFSET vs keyset, on page 1 and on a deep page
"""

from __future__ import annotations

import os
import platform
import secrets
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from shop.db import make_engine, safe_url
from shop.settings import LESSON_DIR
from tools import measure
from tools.cli import OneLineParser

DEFAULT_POSTGRES = "postgresql+psycopg://postgres:postgres@localhost:5432/postgres"

FULL = {
    "customers": 1000,
    "orders_each": 10,
    "rows": 50_000,
    "per_row": 1000,
    "requests": 500,
    "products": 100_000,
    "page_size": 10,
}
QUICK = {
    "customers": 100,
    "orders_each": 10,
    "rows": 2_000,
    "per_row": 100,
    "requests": 50,
    "products": 2_000,
    "page_size": 10,
}


def machine_header() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


@contextmanager
def sqlite_database() -> Iterator[URL]:
    path = LESSON_DIR / "var" / "bench.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    try:
        yield make_url(f"sqlite:///{path}")
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def postgres_database() -> Iterator[URL | None]:
    """A throwaway database on the server DATABASE_URL names (or the compose default)."""
    configured = os.environ.get("DATABASE_URL", "")
    server = make_url(configured if configured.startswith("postgresql") else DEFAULT_POSTGRES)
    admin = make_engine(
        server.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    name = f"bench_02_sqlalchemy_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError:
        print(
            f"PostgreSQL not reachable at {safe_url(server)} - run: docker compose up -d postgres"
            " (PostgreSQL rows skipped)",
            file=sys.stderr,
        )
        admin.dispose()
        yield None
        return
    try:
        yield server.set(drivername="postgresql+psycopg", database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, *rows]:
        print(
            "  ".join(
                str(c).ljust(w) if i < 2 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def run(backends: dict[str, URL], sizes: dict[str, int], repeats: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for backend, url in backends.items():
        engine = make_engine(url)
        try:
            results[backend] = {
                "loading": measure.loading(
                    engine, sizes["customers"], sizes["orders_each"], repeats
                ),
                "inserts": measure.inserts(engine, sizes["rows"], sizes["per_row"], repeats),
                "checkout": measure.checkout(url, sizes["requests"], repeats),
                "pagination": measure.pagination(
                    engine, sizes["products"], sizes["page_size"], repeats
                ),
            }
        finally:
            measure.reset_schema(engine)
            engine.dispose()
    return results


def report(results: dict[str, dict], sizes: dict[str, int], repeats: int) -> None:
    rows = []
    for backend, r in results.items():
        lazy = r["loading"][0].seconds
        for m in r["loading"]:
            rows.append(
                [
                    backend,
                    m.case,
                    f"{m.statements}",
                    f"{m.seconds * 1000:.1f}",
                    f"{lazy / m.seconds:.1f}x",
                ]
            )
    print_table(
        f"1. N+1: orders per customer, {sizes['customers']} customers"
        f" x {sizes['orders_each']} orders (median of {repeats})",
        ["backend", "strategy", "statements", "ms", "speed-up vs lazy"],
        rows,
    )
    rows = []
    for backend, r in results.items():
        slow = r["inserts"][0].rows_per_second
        for m in r["inserts"]:
            rows.append(
                [
                    backend,
                    m.case,
                    f"{m.rows}",
                    f"{m.rows_per_second:,.0f}",
                    f"{m.rows_per_second / slow:.1f}x",
                ]
            )
    print_table(
        f"2. Inserting rows, compared as rows/s (median of {repeats}): the bulk methods insert"
        f" {sizes['rows']:,} rows a run, add + commit per row only {sizes['per_row']:,}",
        ["backend", "method", "rows", "rows/s", "vs per-row commit"],
        rows,
    )
    # A commit per row on the full size would dominate the whole run, so it is timed on a
    # smaller sample; say what the full size would cost at the rate it reached.
    would_take = ", ".join(
        f"{sizes['rows'] / r['inserts'][0].rows_per_second:,.0f} s on {backend}"
        for backend, r in results.items()
    )
    print(
        f"   add + commit per row, at its measured rate, would need {would_take}"
        f" for {sizes['rows']:,} rows (per run)"
    )
    rows = []
    for backend, r in results.items():
        pooled = r["checkout"][0].seconds
        for m in r["checkout"]:
            rows.append(
                [
                    backend,
                    m.case,
                    f"{m.rows}",
                    f"{m.seconds * 1e6:.0f}",
                    f"{m.seconds / pooled:.1f}x",
                ]
            )
    print_table(
        f"3. Checkout + SELECT 1 + return ({sizes['requests']} requests x {repeats} runs,"
        " median latency)",
        ["backend", "pool", "requests", "us/request", "vs QueuePool"],
        rows,
    )
    rows = []
    for backend, r in results.items():
        first = r["pagination"][0].seconds  # keyset, page 1: the cheapest page there is
        for m in r["pagination"]:
            rows.append(
                [
                    backend,
                    m.case,
                    f"{m.rows}",
                    f"{m.seconds * 1000:.2f}",
                    f"{m.seconds / first:.1f}x",
                ]
            )
    print_table(
        f"4. Pagination: {sizes['page_size']} products a page out of {sizes['products']:,}"
        f" (median of {repeats}, {measure.PAGE_FETCHES} fetches each)",
        ["backend", "query", "rows", "ms/page", "vs keyset page 1"],
        rows,
    )


def plot(results: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: render straight to a file
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(20, 4.5))
    for ax, key, label, value in (
        (axes[0], "loading", "ms (log)", lambda m: m.seconds * 1000),
        (axes[1], "inserts", "rows/s (log)", lambda m: m.rows_per_second),
        (axes[2], "checkout", "us per request (log)", lambda m: m.seconds * 1e6),
        (axes[3], "pagination", "ms per page (log)", lambda m: m.seconds * 1000),
    ):
        backends = list(results)
        cases = [m.case for m in results[backends[0]][key]]
        width = 0.8 / len(backends)
        for b, backend in enumerate(backends):
            values = [value(m) for m in results[backend][key]]
            ax.bar([i + b * width for i in range(len(cases))], values, width, label=backend)
        ax.set_xticks([i + width * (len(backends) - 1) / 2 for i in range(len(cases))])
        ax.set_xticklabels([textwrap.fill(c, 14) for c in cases], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.legend()
    axes[0].set_title("N+1: lazy vs eager loading")
    axes[1].set_title("Insert throughput")
    axes[2].set_title("Checkout latency")
    axes[3].set_title("OFFSET vs keyset, page 1 vs deep page")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"\nplot written to {path.relative_to(LESSON_DIR)}")


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        description="Benchmark loading strategies, inserts, pooling and pagination."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot (for CI)")
    parser.add_argument("--backend", choices=["both", "sqlite", "postgres"], default="both")
    args = parser.parse_args(argv)
    # Every section takes the same number of timed runs, each after one untimed warm-up run;
    # an odd number, so the median is one of the measured runs.
    sizes, repeats = (QUICK, 3) if args.quick else (FULL, 5)
    print(machine_header())
    print(
        f"mode: {'quick' if args.quick else 'full'}, sizes {sizes},"
        f" every section: median of {repeats} runs after 1 warm-up"
    )
    with sqlite_database() as sqlite_url, postgres_database() as pg_url:
        backends: dict[str, URL] = {}
        if args.backend in ("both", "sqlite"):
            backends["sqlite"] = sqlite_url
        if args.backend in ("both", "postgres") and pg_url is not None:
            backends["postgres"] = pg_url
        if not backends:  # only PostgreSQL was asked for; postgres_database() said why not
            return 1
        results = run(backends, sizes, repeats)
    report(results, sizes, repeats)
    # The machine is shared: show the load at the end too, so readers can judge the conditions.
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.quick:
        plot(results, LESSON_DIR / "docs" / "bench.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
