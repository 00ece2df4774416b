"""Walk the lesson's migration history: up step by step, down, up again, check, offline SQL.

python main.py                      # SQLite files under var/
# On PostgreSQL, in a database of its own: the walk starts with `downgrade base`.
docker compose exec postgres createdb -U postgres alembic_lesson
DATABASE_URL=postgresql+psycopg://postgres:postgres@localhost:5432/alembic_lesson python main.py
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import NoReturn

from alembic.util import CommandError
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from evolve.diagnose import probe
from evolve.runner import make_config, make_engine, upgrade_order
from evolve.settings import VAR_DIR, Settings
from evolve.walk import MigrationWalk, migrate_audit, offline_sql


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its usage before the error; one line saying what was wrong is enough."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def database_url(value: str) -> str:
    """argparse type: reject a malformed URL with a one-line usage error (exit 2)."""
    try:
        make_url(value)
    except ArgumentError as exc:
        raise argparse.ArgumentTypeError(f"not a database URL: {value!r}") from exc
    return value


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        type=database_url,
        default=settings.database_url,
        help="app database (default: DATABASE_URL, else var/app.db)",
    )
    parser.add_argument(
        "--audit-database-url",
        type=database_url,
        default=settings.audit_database_url,
        help="audit database (default: AUDIT_DATABASE_URL, else var/audit.db)",
    )
    parser.add_argument(
        "--sql-range",
        default="0001:0002",
        help="revisions whose offline SQL to print, as FROM:TO (default: 0001:0002)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show Alembic's own log")
    args = parser.parse_args(argv)
    # Refuse an unknown revision now, not after the whole walk has run.
    known = {revision.revision for revision in upgrade_order(make_config(args.database_url))}
    ends = args.sql_range.split(":")
    if len(ends) != 2 or not set(ends) <= known:
        parser.error(f"--sql-range wants FROM:TO of known revisions, got {args.sql_range!r}")
    return args


def connect_or_explain(url: str) -> Engine:
    """An engine whose database answered a query, or SystemExit(1) with one line on why not."""
    if url.startswith("sqlite"):
        VAR_DIR.mkdir(exist_ok=True)
    engine = make_engine(url)
    problem = probe(engine)
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(1)
    return engine


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        print(f"bad setting {error['loc'][0]}: {error['msg']}", file=sys.stderr)
        return 2
    args = parse_args(argv, settings)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    console = Console()
    app_engine = connect_or_explain(args.database_url)
    audit_engine = connect_or_explain(args.audit_database_url)
    try:
        walk = MigrationWalk(make_config(args.database_url), app_engine, console)
        walk.start_empty()
        walk.upgrade_step_by_step()
        walk.downgrade_and_back()
        walk.check_models()
        migrate_audit(args.audit_database_url, audit_engine, console)
        console.rule(f"[bold]Offline SQL: alembic upgrade {args.sql_range} --sql")
        console.print(offline_sql(args.database_url, args.sql_range).strip(), highlight=False)
    except CommandError as exc:
        # Unknown revision, ambiguous target, a diff found by check: Alembic says which.
        print(f"alembic: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
