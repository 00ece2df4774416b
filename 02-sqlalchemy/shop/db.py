"""Engines for both backends, and a statement counter that makes the SQL visible."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

# The sync driver each backend uses, and its asyncio twin.
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def backend_of(url: str | URL) -> str:
    """'sqlite' or 'postgresql', whatever driver the URL names."""
    return make_url(url).get_backend_name()


def async_url(url: str | URL) -> URL:
    """Derive the asyncio URL from the sync one, so one DATABASE_URL serves both."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ValueError(f"no async driver for backend {backend!r}")
    return parsed.set(drivername=ASYNC_DRIVERS[backend])


def safe_url(url: str | URL) -> str:
    """The URL for messages: never print a password."""
    return make_url(url).render_as_string(hide_password=True)


def _ensure_sqlite_dir(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def configure_sqlite(engine: Engine) -> None:
    """Make the sqlite3 driver behave like a real transactional database.

    * SQLite ignores foreign keys unless each connection turns them on.
    * The sqlite3 driver (before Python 3.12's autocommit attribute) does not emit BEGIN
      before SELECT or SAVEPOINT, which breaks savepoints. We switch its own transaction
      handling off and let SQLAlchemy emit BEGIN itself.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """create_engine plus the per-backend setup this lesson relies on.

    A bare postgresql:// URL picks psycopg (version 3) on SQLAlchemy 2.1, the driver
    this lesson installs, so the URL is used as given.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(parsed)
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        configure_sqlite(engine)
    return engine


def make_async_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """create_async_engine on the derived asyncio URL; SQLite gets the same fixes."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(parsed)
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        # Events live on the sync engine that the async engine drives.
        configure_sqlite(engine.sync_engine)
    return engine


def make_session_factory(engine: Engine, *, expire_on_commit: bool = True) -> sessionmaker[Session]:
    """One factory per engine; a session per unit of work comes from it."""
    return sessionmaker(engine, expire_on_commit=expire_on_commit)


_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class StatementLog:
    """The SQL an engine sent, in order. Transaction control is kept but not counted."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(
            1 for s in self.statements if not s.lstrip().upper().startswith(_TRANSACTION_CONTROL)
        )

    @property
    def selects(self) -> int:
        return sum(1 for s in self.statements if s.lstrip().upper().startswith("SELECT"))


@contextmanager
def count_statements(
    engine: Engine, on_statement: Callable[[str], None] | None = None
) -> Iterator[StatementLog]:
    """Record every statement the engine executes while the block runs.

    before_cursor_execute fires once per round trip to the database, after SQLAlchemy has
    compiled the statement, so it is exactly what the server sees.
    """
    log = StatementLog()

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(statement)
        if on_statement is not None:
            on_statement(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", _record)
