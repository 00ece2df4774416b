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

from evolve.diagnose import probe
from evolve.runner import is_upgrade, make_config, make_engine, upgrade_order
from evolve.settings import Settings, ensure_var_dir, setting_error, usable_url
from evolve.walk import MigrationWalk, migrate_audit, offline_sql


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its usage before the error; one line saying what was wrong is enough."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def database_url(value: str) -> str:
    """argparse type: the settings' own check, as a one-line usage error (exit 2)."""
    try:
        return usable_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    # Everything about the range is settled here, before anything is migrated.
    args.offline_sql = render_sql_range(parser, args.database_url, args.sql_range)
    return args


def render_sql_range(parser: argparse.ArgumentParser, url: str, value: str) -> str:
    """The offline SQL of FROM:TO, or a one-line usage error (exit 2) saying why not.

    Offline mode never connects, so rendering it now costs nothing and catches the ranges
    Alembic would only reject (or silently render as nothing) after the whole walk.
    """
    config = make_config(url)
    known = sorted(revision.revision for revision in upgrade_order(config))
    ends = value.split(":")
    if len(ends) != 2 or not set(ends) <= set(known):
        parser.error(
            f"--sql-range wants FROM:TO of known revisions ({', '.join(known)}), got {value!r}"
        )
    start, end = ends
    if start == end:
        parser.error(f"--sql-range {value} is not an upgrade: FROM and TO are the same revision")
    if not is_upgrade(config, start, end):
        # Alembic would print no SQL at all for it: an empty review is worse than an error.
        parser.error(f"--sql-range {value} is not an upgrade: {start} is not an ancestor of {end}")
    try:
        return offline_sql(url, value)
    except CommandError as exc:
        dialect = make_url(url).get_backend_name()
        if "batch mode" in str(exc):
            parser.error(
                f"--sql-range {value} cannot be written offline for {dialect}: a revision in it"
                " uses batch mode, which on SQLite must read the live table; use a range"
                " without it, or a PostgreSQL --database-url"
            )
        parser.error(f"--sql-range {value} cannot be written offline: {exc}")


def connect_or_explain(url: str) -> Engine:
    """An engine whose database answered a query, or SystemExit(1) with one line on why not."""
    ensure_var_dir(url)
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
        print(setting_error(exc), file=sys.stderr)
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
        console.print(args.offline_sql.strip(), highlight=False)
    except CommandError as exc:
        # Unknown revision, ambiguous target, a diff found by check: Alembic says which.
        print(f"alembic: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
