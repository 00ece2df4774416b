"""Measure what each technique of the lesson buys, as ratios taken in one run.

    python bench.py           scale 20 (100,000 orders), a minute or two, writes docs/bench.png
    python bench.py --quick   scale 2, small sizes, well under a minute, writes no plot

It works in a throwaway database (bench_09_postgresql_<hex>) on the server of DATABASE_URL
and drops it at the end: your seeded `lessons` database is not touched. Every number is a
median over repeats after a warm-up.
"""

from __future__ import annotations

import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import psycopg
from pydantic import ValidationError

from shopdb import dataset, db, indexes, jobqueue, loading, plans, pooling
from shopdb.settings import Settings, masked, settings_error, with_database
from tools.cli import Parser

DOCS = Path(__file__).resolve().parent / "docs"


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench_indexes(conn: psycopg.Connection, repeats: int) -> dict[str, tuple[float, float]]:
    """Median query time without and with each demo's index (no EXPLAIN overhead)."""
    print(f"\n{'index demo':<12} {'without':>10} {'with':>10} {'speed-up':>9}  index")
    out: dict[str, tuple[float, float]] = {}
    for name, demo in indexes.INDEX_DEMOS.items():
        params = demo.params or None

        def query(sql: str = demo.sql, params: Mapping[str, object] | None = params) -> None:
            conn.execute(sql, params).fetchall()
            conn.rollback()

        indexes.remove_index(conn, demo)
        without = median_ms(query, repeats)
        indexes.create_index(conn, demo)
        with_index = median_ms(query, repeats)
        # A plan that ignores the index (a table of a few pages, at --quick's scale) runs the
        # same plan twice: its "speed-up" would be noise, so the table says so instead.
        used = demo.index in plans.index_scans(plans.explain(conn, demo.sql, params, analyze=False))
        conn.rollback()
        indexes.restore(conn, demo)
        out[name] = (without, with_index)
        ratio = f"{without / with_index:>8.1f}x" if used else f"{'not used':>9}"
        print(f"{name:<12} {without:>8.2f}ms {with_index:>8.2f}ms {ratio}  {demo.index}")
    return out


def bench_loaders(conn: psycopg.Connection, rows: int, repeats: int) -> dict[str, float]:
    """Rows per second into an empty copy of order_items, for each way of inserting."""
    data = dataset.generate(scale=max(1, rows // 12_000 + 1), seed=11).tables["order_items"][:rows]
    columns = loading.schema.COLUMNS["order_items"]
    ways = {
        "row INSERT": loading.insert_row_by_row,
        "executemany": loading.insert_executemany,
        "COPY": loading.copy_rows,
    }
    rates: dict[str, float] = {}
    for name, load in ways.items():

        def once(load: Callable[..., None] = load) -> None:
            conn.execute("CREATE TEMP TABLE load_target (LIKE order_items) ON COMMIT DROP")
            load(conn, "load_target", columns, data)
            conn.commit()

        rates[name] = len(data) / (median_ms(once, repeats, warmup=1) / 1000)
    base = rates["row INSERT"]
    print(f"\n{'loading ' + format(len(data), ',') + ' rows':<22} {'rows/s':>10} {'vs row':>8}")
    for name, rate in rates.items():
        print(f"{name:<22} {rate:>10,.0f} {rate / base:>7.1f}x")
    return rates


def bench_queue(url: str, jobs: int, job_ms: float, repeats: int = 3) -> dict[int, float]:
    """Jobs per second with 1, 2 and 4 SKIP LOCKED workers; each job waits `job_ms`
    (an API call, say) while holding its row lock. Median of `repeats` drains, after one
    warm-up drain; filling the queue is not timed."""
    connect = db.connector(url)
    rates: dict[int, float] = {}
    with connect() as conn:
        for workers in (1, 2, 4):
            samples: list[float] = []
            for run in range(repeats + 1):
                jobqueue.reset(conn)
                jobqueue.enqueue(conn, [{"n": i} for i in range(jobs)])
                start = time.perf_counter()
                jobqueue.run_workers(connect, workers, lambda payload: time.sleep(job_ms / 1000))
                if run:  # run 0 is the warm-up
                    samples.append(jobs / (time.perf_counter() - start))
            rates[workers] = statistics.median(samples)
    label = f"queue: {jobs} jobs of {job_ms:g} ms"
    print(f"\n{label:<22} {'jobs/s':>10} {'vs 1':>8}")
    for workers, rate in rates.items():
        print(f"{str(workers) + ' worker(s)':<22} {rate:>10,.0f} {rate / rates[1]:>7.1f}x")
    return rates


def bench_connections(url: str, queries: int) -> dict[str, float]:
    """The same point query: a new connection each time, a pool, a pool + prepared."""
    ids = range(1, queries + 1)
    # (repeats, warm-ups): a connection per query is slow enough that fewer runs suffice.
    runs = {"connect per query": (3, 1), "pool": (5, 2), "pool + prepared": (5, 2)}
    per_query: dict[str, float] = {}
    with pooling.open_pool(url) as pool:
        for strategy in pooling.STRATEGIES:

            def run(strategy: pooling.Strategy = strategy) -> None:
                pooling.point_queries(strategy, url, pool, ids)

            repeats, warmup = runs[strategy]
            per_query[strategy] = median_ms(run, repeats, warmup) / queries
    base = per_query["connect per query"]
    print(f"\n{str(queries) + ' point queries':<22} {'ms/query':>10} {'speed-up':>8}")
    for name, ms in per_query.items():
        print(f"{name:<22} {ms:>10.3f} {base / ms:>7.1f}x")
    return per_query


def plot(
    index_times: dict[str, tuple[float, float]], loaders: dict[str, float], queue: dict[int, float]
) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.5))
    names = list(index_times)
    a.bar(names, [w / i for w, i in index_times.values()], color="tab:green")
    a.set_yscale("log")
    a.set_title("query speed-up from each index (log)")
    a.tick_params(axis="x", rotation=45)
    b.bar(list(loaders), list(loaders.values()), color="tab:blue")
    b.set_yscale("log")
    b.set_title("rows/s by way of inserting (log)")
    c.bar([f"{w} worker(s)" for w in queue], list(queue.values()), color="tab:orange")
    c.set_title("SKIP LOCKED queue: jobs/s")
    fig.suptitle(machine(), fontsize=9)
    fig.tight_layout()
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / "bench.png", dpi=110)
    print(f"\nplot written to {DOCS / 'bench.png'}")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_all(
    url: str, seed: int, scale: int, repeats: int, rows: int, jobs: int, queries: int
) -> tuple[dict[str, tuple[float, float]], dict[str, float], dict[int, float]]:
    with db.connect(url) as conn:
        start = time.perf_counter()
        counts = loading.seed(conn, dataset.generate(scale, seed))
        took = time.perf_counter() - start
        print(f"seeded scale {scale}: {counts['orders']:,} orders in {took:.1f} s")
        index_times = bench_indexes(conn, repeats)
        loaders = bench_loaders(conn, rows, 3)
    queue = bench_queue(url, jobs, job_ms=5.0)
    bench_connections(url, queries)
    return index_times, loaders, queue


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args(argv)
    scale, repeats, rows, jobs, queries = (
        (2, 5, 2000, 40, 30) if args.quick else (20, 15, 20_000, 200, 200)
    )
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: bad settings: {settings_error(exc)}", file=sys.stderr)
        return 2
    name = f"bench_09_postgresql_{secrets.token_hex(4)}"
    url = with_database(settings.database_url, name)
    try:
        db.create_database(url)
    except db.BadConnectionSetting as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (db.ServiceUnavailable, db.LoginRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        # The server answered but refused, e.g. a role without the CREATEDB right.
        print(f"error: cannot create the database {name!r}: {first_line(exc)}", file=sys.stderr)
        return 1
    print(machine())
    # From here on a throwaway database exists: whatever happens, try to drop it, and
    # report the first failure - not the traceback of a cleanup that failed after it.
    failure, code = "", 0
    try:
        results = run_all(url, settings.dataset_seed, scale, repeats, rows, jobs, queries)
    except psycopg.OperationalError as exc:  # the server went away (restart, network)
        failure, code = (
            f"error: PostgreSQL at {masked(url)} failed mid-run: {first_line(exc)}"
            f" - is it running? {db.START_HINT}",
            1,
        )
    except psycopg.Error as exc:  # refused by the server (a right, a resource)
        failure, code = f"error: PostgreSQL refused: {first_line(exc)}", 1
    except KeyboardInterrupt:
        failure, code = "interrupted", 130
    try:
        db.drop_database(url)
    except psycopg.Error as exc:
        # Said after the first failure, and named, so the leftover database is not lost.
        failure += ("\n" if failure else "") + (
            f"error: could not drop the bench database {name!r} ({first_line(exc)})"
            f" - drop it by hand: DROP DATABASE {name};"
        )
        code = code or 1
    if failure:
        print(failure, file=sys.stderr)
        return code
    if not args.quick:
        plot(*results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
