"""Connecting, and telling apart "no server" from "no database" from "not seeded yet"."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg import sql

from .schema import SCHEMA, SEARCH_PATH
from .settings import database_name, libpq_url, masked, with_database

# A factory of fresh connections: the transaction demos need two or more at once.
Connect = Callable[[], psycopg.Connection]

START_HINT = "docker compose up -d postgres"


class ServiceUnavailable(RuntimeError):
    """The server does not answer at all."""

    def __init__(self, url: str) -> None:
        super().__init__(f"PostgreSQL not reachable at {masked(url)} - run: {START_HINT}")


class LoginRefused(RuntimeError):
    """The server answers but will not let us in (unknown role, wrong password, pg_hba)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"PostgreSQL at {masked(url)} refused the login: {reason}"
            " - check the user and password in DATABASE_URL"
        )


class BadConnectionSetting(RuntimeError):
    """The URL asks for something this server or libpq refuses (SSL the server lacks, an
    invalid option value): a setting to change, exit 2 - not a server to start."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"bad settings: DATABASE_URL ({masked(url)}): {reason}")


# libpq's words for a URL it cannot use as written, as opposed to a server that is down.
_SETTING_PROBLEMS = ("does not support SSL", "invalid ")


def _unavailable(url: str, exc: psycopg.OperationalError) -> RuntimeError:
    """Tell "nobody answers" from "the server answered no": only the first is fixed by
    starting the compose service. libpq prefixes the server's own refusal with FATAL."""
    message = str(exc)
    for line in message.splitlines():
        if any(problem in line for problem in _SETTING_PROBLEMS):
            return BadConnectionSetting(url, line.rsplit(" failed: ", 1)[-1].strip())
    if "FATAL:" in message:
        return LoginRefused(url, message.split("FATAL:", 1)[1].strip().splitlines()[0])
    return ServiceUnavailable(url)


class NotSeeded(RuntimeError):
    """The server answers but the shop is not there yet."""

    def __init__(self, url: str, what: str) -> None:
        super().__init__(f"{what} at {masked(url)} - run first: python main.py seed")


# Sent when the session starts (libpq's `options`), so even a pooled connection has it.
SESSION_OPTIONS = f"-c search_path={SEARCH_PATH}"


def connect(url: str, *, timeout: int = 3, autocommit: bool = False) -> psycopg.Connection:
    """A connection whose search_path finds the lesson's schema first."""
    return psycopg.connect(
        libpq_url(url), connect_timeout=timeout, autocommit=autocommit, options=SESSION_OPTIONS
    )


def session_options() -> dict[str, str]:
    """What every session of the lesson needs; a pool passes it to each connection it opens."""
    return {"options": SESSION_OPTIONS}


def connector(url: str, *, timeout: int = 3) -> Connect:
    return lambda: connect(url, timeout=timeout)


def database_exists(url: str, *, timeout: int = 3) -> bool:
    """Ask the maintenance database whether the database named in `url` exists."""
    try:
        with connect(with_database(url, "postgres"), timeout=timeout, autocommit=True) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database_name(url),)
            ).fetchone()
    except psycopg.OperationalError as exc:
        raise _unavailable(url, exc) from exc
    return row is not None


def create_database(url: str, *, timeout: int = 3) -> bool:
    """Create the database named in `url` unless it exists. True when it was created."""
    if database_exists(url, timeout=timeout):
        return False
    # CREATE DATABASE cannot run inside a transaction, hence autocommit.
    with connect(with_database(url, "postgres"), timeout=timeout, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name(url))))
    return True


def drop_database(url: str, *, timeout: int = 3) -> None:
    with connect(with_database(url, "postgres"), timeout=timeout, autocommit=True) as conn:
        # FORCE (PostgreSQL 13+) ends sessions a crashed test may have left behind.
        stmt = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(stmt.format(sql.Identifier(database_name(url))))


def open_seeded(url: str, *, timeout: int = 3) -> psycopg.Connection:
    """A connection to a seeded shop, or one clear error saying what is missing."""
    try:
        conn = connect(url, timeout=timeout)
    except psycopg.OperationalError as exc:
        if database_exists(url, timeout=timeout):
            raise  # the server and the database are there: a real error, show it
        raise NotSeeded(url, f"database {database_name(url)!r} does not exist") from exc
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.orders",)).fetchone()
    seeded = bool(row and row[0]) and conn.execute("SELECT 1 FROM orders LIMIT 1").fetchone()
    conn.rollback()
    if not seeded:
        conn.close()
        raise NotSeeded(url, "no shop data")
    return conn
