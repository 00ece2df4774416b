"""A guided tour of SQLAlchemy 2.0 on the shop schema.

python main.py                 # SQLite file under var/ (no service needed)
python main.py --async         # the async variant (aiosqlite / asyncpg)
DATABASE_URL=postgresql+psycopg://postgres:postgres@localhost:5432/lessons python main.py
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import warnings

from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from demo.narrate import Narrator
from demo.tour import run_tour
from demo.tour_async import run_async_tour
from shop.db import backend_of, make_async_engine, safe_url
from shop.pooling import make_pooled_engine
from shop.settings import Settings
from tools.cli import OneLineParser


class ServiceUnavailable(Exception):
    """The database could not be reached; the message is the one line the user sees."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(
        description="Walk through SQLAlchemy 2.0: models, sessions, queries, loading, pooling.",
        epilog="DATABASE_URL picks the database (default: a SQLite file under var/).",
    )
    parser.add_argument("--async", dest="use_async", action="store_true", help="run the async tour")
    parser.add_argument("--no-sql", action="store_true", help="hide the SQL, keep the counts")
    parser.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser.parse_args(argv)


LOGIN_REFUSED = re.compile(
    r'role "[^"]*" does not exist|password authentication failed for user "[^"]*"'
)


def describe_failure(url: str, exc: BaseException) -> str:
    """Turn a connection failure into one actionable line."""
    shown = safe_url(url)
    if backend_of(url) != "postgresql":
        return f"SQLite database at {shown} cannot be opened: {str(exc).splitlines()[0]}"
    database = make_url(url).database
    message = str(exc)
    if f'database "{database}" does not exist' in message:
        return (
            f"PostgreSQL database {database!r} does not exist at {shown} - create it: "
            f"docker compose exec postgres createdb -U postgres {database}"
        )
    # The server answered but refused the user: starting it again would not help.
    refused = LOGIN_REFUSED.search(message)
    if refused:
        return (
            f"PostgreSQL at {shown} refused the login ({refused.group(0)}) -"
            " check the user and password in DATABASE_URL"
        )
    return f"PostgreSQL not reachable at {shown} - run: docker compose up -d postgres"


# What to type instead, per backend: DATABASE_URL is the sync form, --async derives its driver.
SYNC_FORMS = {
    "postgresql": "postgresql+psycopg://user:password@host:5432/dbname",
    "sqlite": "sqlite:///path/to/shop.db",
}


def url_problem(url: str, *, use_async: bool) -> str | None:
    """None when the tour can run on `url`, else one line saying which URL form to use."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in SYNC_FORMS:
        return f"DATABASE_URL must be sqlite or postgresql, got {backend!r}"
    database = parsed.database or ""
    if backend == "sqlite" and (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or parsed.query.get("mode") == "memory"
    ):
        # Each pooled connection would open a fresh, empty in-memory database of its own.
        return (
            "DATABASE_URL is an in-memory SQLite database, which every pooled connection sees"
            f" empty: use a file, {SYNC_FORMS['sqlite']}"
        )
    if use_async:
        return None  # the async tour picks aiosqlite / asyncpg itself (shop.db.async_url)
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except (ImportError, NoSuchModuleError):
        return (
            f"DATABASE_URL names a driver that is not installed ({parsed.drivername}):"
            f" use {SYNC_FORMS[backend]}"
        )
    if dialect.is_async:
        return (
            f"DATABASE_URL names the async driver {parsed.drivername}, but the sync tour"
            f" needs {SYNC_FORMS[backend]} (--async derives its driver from that form)"
        )
    return None


def probe_sql(url: str) -> str:
    """SQLite opens its file lazily, so SELECT 1 succeeds even on a file that is not a
    database; reading the schema is what finds out."""
    return "SELECT count(*) FROM sqlite_master" if backend_of(url) == "sqlite" else "SELECT 1"


def run_sync(settings: Settings, narrator: Narrator) -> None:
    try:
        engine = make_pooled_engine(
            settings.database_url,
            size=settings.pool_size,
            overflow=settings.pool_max_overflow,
            timeout=settings.pool_timeout,
        )
    except OSError as exc:  # the SQLite file's folder cannot be created
        raise ServiceUnavailable(describe_failure(settings.database_url, exc)) from exc
    try:
        try:
            with engine.connect() as conn:
                conn.execute(text(probe_sql(settings.database_url)))
        except DBAPIError as exc:
            raise ServiceUnavailable(describe_failure(settings.database_url, exc)) from exc
        run_tour(engine, narrator)
    finally:
        engine.dispose()


async def run_async(settings: Settings, narrator: Narrator) -> None:
    # The tour provokes a lazy load under asyncio on purpose. With aiosqlite that failed load
    # leaves one never-awaited cursor coroutine behind, which Python reports at exit; the
    # failure itself is the point of the step, so that one report is silenced.
    warnings.filterwarnings(
        "ignore", message="coroutine 'Connection.cursor' was never awaited", category=RuntimeWarning
    )
    try:
        engine = make_async_engine(
            settings.database_url,
            pool_size=settings.pool_size,
            max_overflow=settings.pool_max_overflow,
            pool_timeout=settings.pool_timeout,
            pool_pre_ping=True,
        )
    except OSError as exc:  # the SQLite file's folder cannot be created
        raise ServiceUnavailable(describe_failure(settings.database_url, exc)) from exc
    try:
        try:
            async with engine.connect() as conn:
                await conn.execute(text(probe_sql(settings.database_url)))
        except (DBAPIError, OSError) as exc:
            raise ServiceUnavailable(describe_failure(settings.database_url, exc)) from exc
        await run_async_tour(engine, narrator)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
        problem = url_problem(settings.database_url, use_async=args.use_async)
    except ValidationError as exc:
        # pydantic's first line is only "1 validation error for Settings": name the variable.
        first = exc.errors()[0]
        name = "_".join(str(part) for part in first["loc"]).upper()
        print(f"error: invalid settings: {name}: {first['msg']}", file=sys.stderr)
        return 2
    except ArgumentError as exc:
        print(f"error: invalid settings: DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    console = Console(highlight=False, soft_wrap=True)
    narrator = Narrator(console, show_sql=not args.no_sql)
    mode = "async" if args.use_async else "sync"
    console.print(f"[bold]SQLAlchemy tour ({mode}) on {safe_url(settings.database_url)}[/]")
    try:
        if args.use_async:
            asyncio.run(run_async(settings, narrator))
        else:
            run_sync(settings, narrator)
    except ServiceUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    console.print("\n[bold green]tour finished[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
