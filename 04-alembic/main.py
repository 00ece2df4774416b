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

from alembic.util import CommandError
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import Engine

from demo.walk import MigrationWalk, migrate_audit, offline_sql
from evolve.diagnose import probe
from evolve.runner import make_config, make_engine
from evolve.settings import Settings, ensure_var_dir, setting_error, usable_url
from tools.cli import OneLineParser

# The step main.py prints as SQL: `alembic upgrade 0001:0002 --sql` (see demo.walk.offline_sql).
SQL_RANGE = "0001:0002"


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
    parser.add_argument("-v", "--verbose", action="store_true", help="show Alembic's own log")
    return parser.parse_args(argv)


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
        console.rule(f"[bold]Offline SQL: alembic upgrade {SQL_RANGE} --sql")
        console.print(offline_sql(args.database_url, SQL_RANGE).strip(), highlight=False)
    except CommandError as exc:
        # Unknown revision, ambiguous target, a diff found by check: Alembic says which.
        print(f"alembic: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
