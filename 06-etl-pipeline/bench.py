"""Measure the pipeline: rows/s per stage, COPY vs INSERT, incremental vs full, flat memory, and
the same transform in plain Python, polars and DuckDB.

    python bench.py           full run (several minutes: it generates 1M rows), writes docs/etl.png
    python bench.py --quick   small sizes, no peak-memory runs, seconds, writes no plot

Each comparison is measured in one run and reported as a ratio.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, make_url, update

from cli import OneLineParser, source_api
from etl.extract import csv_source, db_source, pos_orders
from etl.extract_api import ApiSource
from etl.load import upsert_orders
from etl.pipeline import Pipeline
from etl.records import RawRecord, clean
from etl.schema import Order, warehouse
from etl.settings import load_settings
from sources.generate import generate
from tools.transforms import transform_duckdb, transform_polars, transform_python

LESSON = Path(__file__).resolve().parent
DOCS = LESSON / "docs"
POSTGRES = "postgresql+psycopg://postgres:postgres@localhost:5432/postgres"


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}, load average {load}")  # fmt: skip


def timed(fn: Callable[[], object], repeats: int = 3) -> float:
    """Median seconds of `repeats` runs after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@contextmanager
def postgres() -> Iterator[str | None]:
    import psycopg

    name = f"bench_06_etl_pipeline_{secrets.token_hex(4)}"
    admin = make_url(POSTGRES).set(drivername="postgresql").render_as_string(False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        yield None
        return
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stages(data: Path) -> dict[str, float]:
    """Rows/s of each extractor alone, of the transform, per source."""
    out: dict[str, float] = {}
    records: list[RawRecord] = []
    t0 = time.perf_counter()
    for item in csv_source(data / "input"):
        if isinstance(item, RawRecord):
            records.append(item)
    out["extract csv"] = len(records) / (time.perf_counter() - t0)
    with source_api(data / "api_orders.jsonl") as url:
        t0 = time.perf_counter()
        n = sum(1 for _ in ApiSource(url, 1000, 5, 30)(None))
        out["extract api"] = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    n = sum(1 for _ in db_source(f"sqlite:///{data / 'source.db'}", None, 5000))
    out["extract db"] = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for r in records:
        clean(r)
    out["transform (pydantic)"] = len(records) / (time.perf_counter() - t0)
    return out


def valid_rows(data: Path, n: int) -> list[dict[str, object]]:
    rows = []
    for item in csv_source(data / "input"):
        if isinstance(item, RawRecord) and isinstance(row := clean(item), dict):
            rows.append(row)
            if len(rows) == n:
                break
    return rows


def load_methods(
    engine: Engine, rows: list[dict[str, object]], methods: list[str], repeats: int
) -> dict[str, float]:
    """Rows/s loading rows into an empty table, per method (one row at a time gets a tenth)."""
    out = {}
    for method in methods:
        batch = rows[: len(rows) // 10] if method == "row" else rows

        def once(method: str = method, batch: list[dict[str, object]] = batch) -> None:
            with engine.begin() as conn:
                conn.execute(delete(Order))
            with engine.begin() as conn:
                upsert_orders(conn, batch, method)

        out[method] = len(batch) / timed(once, repeats)
    return out


def incremental_vs_full(data: Path, tmp: Path, repeats: int) -> tuple[float, float]:
    settings = load_settings(database_url=f"sqlite:///{tmp / 'inc.db'}", data_dir=data,
                             source_database_url=f"sqlite:///{data / 'source.db'}")  # fmt: skip
    engine = warehouse(settings)
    pipeline = Pipeline(settings, engine)
    full = timed(lambda: pipeline.run(("db",), full=True), repeats)
    source = create_engine(settings.source_database_url)

    def change_one_percent_and_run() -> None:
        with source.begin() as conn:  # 1% of rows touched now: newer than any watermark
            conn.execute(update(pos_orders).where(pos_orders.c.id % 100 == 0).values(
                amount_cents=pos_orders.c.amount_cents + 1, updated_at=pos_orders.c.updated_at
                + (time.time() % 1000) / 1e6))  # fmt: skip
        pipeline.run(("db",))

    settings_no_lookback = settings.model_copy(update={"watermark_lookback_s": 0})
    pipeline = Pipeline(settings_no_lookback, engine)
    incremental = timed(change_one_percent_and_run, repeats)
    return full, incremental


def peak_memory(rows: int, tmp: Path) -> float:
    """MiB at peak for a whole run over `rows` generated orders, in a process of its own."""
    data = tmp / f"mem{rows}"
    generate(data, rows)
    env = {**os.environ, "DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'w.db'}",
           "SOURCE_DATABASE_URL": f"sqlite:///{data / 'source.db'}"}  # fmt: skip
    # The source API runs in its own process: its data is the source's memory, not the pipeline's.
    port = free_port()
    server = subprocess.Popen([sys.executable, "main.py", "serve-source", "--port", str(port)],
                              cwd=LESSON, env=env)  # fmt: skip
    try:
        wait_for_port(port)
        env["SOURCE_API_URL"] = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "main.py", "run", "--no-parquet"]
        out = subprocess.run(cmd, cwd=LESSON, env=env, capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    return float(re.search(r"peak memory: ([\d,]+) MiB", out).group(1).replace(",", ""))  # type: ignore[union-attr]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: the source API did not start on port {port}")


def main() -> int:
    parser = OneLineParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args()
    rows, small, big = (10_000, 0, 0) if args.quick else (100_000, 100_000, 1_000_000)
    repeats = 1 if args.quick else 3
    print(machine())
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        generate(data, rows)
        print(f"{rows:,} generated orders (half CSV, 30% API, 20% database), seeded defects\n")

        print(f"{'stage':<24}{'rows/s':>10}")
        for stage, rate in stages(data).items():
            print(f"{stage:<24}{rate:>10,.0f}")

        sample = valid_rows(data, min(20_000, rows // 5))
        print(f"\nloading {len(sample):,} rows into an empty table, median of {repeats}"
              " (one INSERT per row: a tenth of them)")  # fmt: skip
        print(f"{'database':<12}{'method':<34}{'rows/s':>10}{'vs per row':>12}")
        labels = {
            "copy": "COPY to staging + one upsert",
            "values": "multi-row INSERT ... ON CONFLICT",
            "row": "one INSERT per row",
        }
        results: dict[str, dict[str, float]] = {}
        with postgres() as pg:
            targets = [("SQLite", f"sqlite:///{tmp / 'load.db'}", ["values", "row"])]
            if pg:
                targets.append(("PostgreSQL", pg, ["copy", "values", "row"]))
            for name, url, methods in targets:
                engine = warehouse(load_settings(database_url=url))
                rates = results[name] = load_methods(engine, sample, methods, repeats)
                for method, rate in rates.items():
                    print(
                        f"{name:<12}{labels[method]:<34}{rate:>10,.0f}{rate / rates['row']:>11.1f}x"
                    )
                engine.dispose()

        full, incremental = incremental_vs_full(data, tmp, repeats)
        print(
            f"\ndb source, {rows // 5:,} rows: full reload {full:.2f} s, incremental after a 1% "
            f"change {incremental:.2f} s ({full / incremental:.1f}x faster)"
        )

        if not args.quick:  # two whole runs in processes of their own: minutes, not seconds
            memory = {n: peak_memory(n, tmp) for n in (small, big)}
            print(
                f"\npeak memory of a whole run: {small:,} orders {memory[small]:.0f} MiB, "
                f"{big:,} orders {memory[big]:.0f} MiB (ratio {memory[big] / memory[small]:.2f} "
                f"for {big // small}x the rows)"
            )

        modern = data / "input" / "orders_2026.csv"
        engines = {"plain Python (pydantic)": transform_python, "polars": transform_polars,
                   "DuckDB": transform_duckdb}  # fmt: skip
        print(f"\nthe same transform of {modern.name} (clean, validate, de-duplicate)")
        print(f"{'engine':<26}{'valid rows':>11}{'rows/s':>12}{'vs Python':>11}")
        lines = sum(1 for _ in modern.open(encoding="utf-8")) - 1
        speeds = {}
        for name, fn in engines.items():
            kept = fn(modern)
            speeds[name] = lines / timed(lambda fn=fn: fn(modern), repeats)
            base = speeds["plain Python (pydantic)"]
            print(f"{name:<26}{kept:>11,}{speeds[name]:>12,.0f}{speeds[name] / base:>10.1f}x")
    if not args.quick:
        plot(results, speeds)
    return 0


def plot(loads: dict[str, dict[str, float]], speeds: dict[str, float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = [f"{db}\n{m}" for db, rates in loads.items() for m in rates]
    left.barh(names, [r for rates in loads.values() for r in rates.values()])
    left.set_xscale("log")  # the methods differ by orders of magnitude
    left.set_xlabel("rows/s loaded (log)")
    left.set_title("Loading the same rows")
    right.barh(list(speeds), list(speeds.values()), color="tab:green")
    right.set_xscale("log")
    right.xaxis.set_minor_formatter(NullFormatter())  # only the decades, readable
    right.set_xlabel("rows/s transformed (log)")
    right.set_title("The same transform, three engines")
    fig.tight_layout()
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / "etl.png", dpi=120)
    print(f"\nplot: {DOCS / 'etl.png'}")


if __name__ == "__main__":
    raise SystemExit(main())
