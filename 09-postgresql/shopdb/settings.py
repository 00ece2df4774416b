"""Settings, read once from the environment (or a `.env` file next to main.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The compose service. There is no embedded default in this lesson: everything it teaches
# (plans, MVCC, locks) is PostgreSQL's own behaviour, so it needs a real server.
COMPOSE_URL = "postgresql+psycopg://postgres:postgres@localhost:5432/lessons"
# The lesson folder: its `.env` is found whichever directory main.py is started from.
LESSON_DIR = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=LESSON_DIR / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = COMPOSE_URL
    dataset_seed: int = Field(default=7, description="random seed of the generated shop")
    dataset_scale: int = Field(default=10, ge=1, le=200, description="1 = 5,000 orders")
    connect_timeout: int = Field(default=3, ge=1, description="seconds before giving up")

    @field_validator("database_url")
    @classmethod
    def _postgres_url_naming_a_database(cls, url: str) -> str:
        # Checked once, here: a wrong URL is a settings error at start-up, not a traceback
        # from whichever command first takes it apart.
        check_connection_settings(libpq_url(url))
        return url


def settings_error(exc: ValidationError) -> str:
    """The first problem, named by its environment variable: `DATASET_SCALE: Input should...`.
    The input itself is left out: for DATABASE_URL it would print the password."""
    first = exc.errors()[0]
    name = "_".join(str(part) for part in first["loc"]).upper()
    message = str(first["msg"]).removeprefix("Value error, ")
    return message if name in message else f"{name}: {message}"


def libpq_url(url: str) -> str:
    """Turn a SQLAlchemy-style URL (`postgresql+psycopg://`) into one libpq understands."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {scheme}://")
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database (e.g. the `postgres` maintenance one)."""
    parts = urlsplit(libpq_url(url))
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def check_connection_settings(url: str) -> None:
    """Refuse, in words, what libpq would refuse later with a misleading message.

    A port that is not a number reaches libpq as a service name ("failed to resolve host"),
    which reads like a server that is down; the fix is the URL, not `docker compose up`.
    """
    database_name(url)
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:  # an unknown option: `?sslmod=require`
        raise ValueError(f"DATABASE_URL: {str(exc).strip()}") from None
    for port in str(params.get("port") or "5432").split(","):  # one per host, if several
        if not (port.isdigit() and 1 <= int(port) <= 65535):
            raise ValueError(f"DATABASE_URL: port must be a number 1..65535, got {port!r}")
    sslmode = params.get("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        raise ValueError(f"DATABASE_URL: sslmode must be one of {', '.join(SSLMODES)}")


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise ValueError("DATABASE_URL names no database (expected .../lessons)")
    return name


def masked(url: str) -> str:
    """The URL as it is safe to print: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
