"""A batch ETL pipeline: CSV exports, an HTTP API and a database into one warehouse table.

python main.py generate --rows 1000000     sample inputs with seeded defects under var/
python main.py run [--full] [--source csv|api|db|all]
python main.py runs                        past runs and their counts
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from contextlib import ExitStack

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError

from cli import OneLineParser, fail, settings_or_exit, source_api
from etl.parquet import export
from etl.pipeline import SOURCES, Pipeline, RunResult, runs
from etl.schema import Quarantine, warehouse
from etl.settings import Settings, safe_url

FIRST_USE_ROWS = 10_000


def parse(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="main.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write sample inputs with seeded defects")
    gen.add_argument("--rows", type=int, default=100_000, help="orders in all (1,000-10,000,000)")
    gen.add_argument("--seed", type=int, default=7)
    run = sub.add_parser("run", help="extract, validate, quarantine and load")
    run.add_argument("--full", action="store_true", help="forget watermarks, reload from scratch")
    run.add_argument("--source", choices=[*SOURCES, "all"], default="all")
    run.add_argument("--no-parquet", action="store_true", help="skip the Parquet export")
    sub.add_parser("runs", help="past runs with their counts")
    api = sub.add_parser("serve-source", help="the source API alone, to poke at or point to")
    api.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    args = parser.parse_args(argv)
    if args.command == "generate" and not 1_000 <= args.rows <= 10_000_000:
        parser.error("--rows must be 1,000-10,000,000")
    if args.command == "serve-source" and not 0 <= args.port <= 65_535:
        parser.error("--port must be 0-65535")
    return args


def connect_or_exit(settings: Settings) -> Engine:
    try:
        engine = warehouse(settings)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        if "FATAL:" in str(exc.orig):
            # The server answered and said no (no such database or role, a wrong password):
            # it is running, and starting it would not help. A setting to fix: exit 2.
            said = str(exc.orig).split("FATAL:", 1)[1].strip().splitlines()[0]
            fail(f"warehouse at {safe_url(settings.url)} refused the connection: {said} "
                 "- fix DATABASE_URL", 2)  # fmt: skip
        hint = (
            " - run: docker compose up -d postgres" if "postgresql" in settings.database_url else ""
        )
        fail(f"warehouse not reachable at {safe_url(settings.url)} ({reason}){hint}", 1)
    return engine


def cmd_generate(settings: Settings, rows: int, seed: int) -> int:
    from sources.generate import generate

    m = generate(settings.data_dir, rows, seed)
    print(f"wrote {sum(m.rows.values()):,} records under {settings.data_dir}: {m.rows}")
    print(f"seeded: {sum(m.defects.values())} bad values, {m.malformed_lines} malformed CSV "
          f"lines, {m.cross_duplicates} CSV rows repeating an API order")  # fmt: skip
    return 0


def cmd_run(settings: Settings, sources: tuple[str, ...], full: bool, parquet: bool) -> int:
    if not (settings.data_dir / "input").is_dir():
        print(f"no inputs yet: generating {FIRST_USE_ROWS:,} orders (python main.py generate)")
        cmd_generate(settings, FIRST_USE_ROWS, 7)
    engine = connect_or_exit(settings)
    with ExitStack() as stack:
        api = settings.source_api_url
        if "api" in sources and not api:
            api = stack.enter_context(source_api(settings.data_dir / "api_orders.jsonl",
                                                 every_429=40, every_503=25))  # fmt: skip
        on_batch = stack.enter_context(progress()) if sys.stderr.isatty() else None
        result = Pipeline(settings, engine, api, on_batch).run(sources, full)
    show(result, engine, settings)
    if parquet and not result.failed:
        written = export(engine, settings.data_dir / "parquet")
        print(f"parquet: {written:,} orders under {settings.data_dir / 'parquet'}/order_date=*/")
    if result.failed:
        fail(f"run {result.run_id} failed: " + "; ".join(result.failed.values()), 1)
    return 0


def show(result: RunResult, engine: Engine, settings: Settings) -> None:
    print(f"\nrun {result.run_id}")
    print(f"{'source':<8}{'read':>9}{'unchanged':>11}{'rejected':>10}{'duplicates':>12}"
          f"{'loaded':>9}{'retries':>9}{'rows/s':>9}")  # fmt: skip
    for source, c in result.counts.items():
        rate = c.read / c.seconds if c.seconds else 0
        print(f"{source:<8}{c.read:>9,}{c.unchanged:>11,}{c.rejected:>10,}{c.duplicates:>12,}"
              f"{c.loaded:>9,}{c.retries:>9}{rate:>9,.0f}")  # fmt: skip
    with engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(Quarantine)).scalar_one()
    print(f"quarantine: {held:,} records in table quarantine of {safe_url(settings.url)}")
    try:
        import resource  # POSIX only
    except ImportError:
        return
    # ru_maxrss is KiB on Linux, bytes on macOS; the pipeline's memory should not grow with N.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory: {peak / (1024 if sys.platform != 'darwin' else 1024**2):,.0f} MiB")


def progress() -> object:
    """A rich progress bar per source on a terminal (rows and rows/s); quiet otherwise."""
    from contextlib import contextmanager

    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bars():  # noqa: ANN202
        with Progress(TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"),
                      TextColumn("{task.speed:,.0f} rows/s"), TimeElapsedColumn(),
                      transient=True) as bar:  # fmt: skip
            tasks: dict[str, int] = {}

            def advance(source: str, n: int) -> None:
                if source not in tasks:
                    tasks[source] = bar.add_task(source, total=None)
                bar.advance(tasks[source], n)

            yield advance

    return bars()


def cmd_runs(settings: Settings) -> int:
    engine = connect_or_exit(settings)
    print(
        f"{'run':>4}  {'mode':<12}{'status':<8}{'started (UTC)':<21}{'loaded':>9}{'rejected':>10}"
    )
    for r in runs(engine):
        counts = r.counts or {}
        loaded = sum(c.get("loaded", 0) for c in counts.values())
        rejected = sum(c.get("rejected", 0) for c in counts.values())
        print(f"{r.id:>4}  {r.mode:<12}{r.status:<8}{r.started_at:%Y-%m-%d %H:%M:%S}  "
              f"{loaded:>9,}{rejected:>10,}")  # fmt: skip
    return 0


def cmd_serve_source(settings: Settings, port: int) -> int:
    import uvicorn

    from sources.api import Faults, create_source_api

    data = settings.data_dir / "api_orders.jsonl"
    if not data.is_file():
        fail(f"no {data} yet: run python main.py generate", 1)
    app = create_source_api(data, Faults(every_429=40, every_503=25))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    args = parse(argv)
    settings = settings_or_exit()
    commands: dict[str, Callable[[], int]] = {
        "generate": lambda: cmd_generate(settings, args.rows, args.seed),
        "run": lambda: cmd_run(
            settings, SOURCES if args.source == "all" else (args.source,), args.full,
            not args.no_parquet,
        ),
        "runs": lambda: cmd_runs(settings),
        "serve-source": lambda: cmd_serve_source(settings, args.port),
    }  # fmt: skip
    return commands[args.command]()


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
