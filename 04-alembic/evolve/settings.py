"""One settings class for the lesson, read from the environment (and an optional .env file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

LESSON_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = LESSON_DIR / "var"


def anchor_sqlite_path(value: str) -> str:
    """A relative SQLite path, made relative to the lesson folder instead of the current one.

    `sqlite:///var/audit.db` in .env should mean this lesson's var/ folder whether main.py or
    `alembic` is started here or elsewhere (`alembic -c 04-alembic/alembic.ini ...`).
    """
    url = make_url(value)
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return value
    if path.startswith("file:") or Path(path).is_absolute():
        return value
    return url.set(database=str(LESSON_DIR / path)).render_as_string(hide_password=False)


def ensure_var_dir(url: str) -> None:
    """Create the lesson's var/ folder when a SQLite database is to live in it.

    var/ is not in git, so on a fresh clone it does not exist yet and SQLite would refuse to
    create the file. Only this folder is created: a typo elsewhere still gets its one-line error.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # not a URL at all: the connection probe words that error
    database = parsed.database
    is_file = parsed.get_backend_name() == "sqlite" and database and database != ":memory:"
    if is_file and Path(database).resolve().parent == VAR_DIR:
        VAR_DIR.mkdir(exist_ok=True)


USE_INSTEAD = "use postgresql+psycopg://user:password@host:5432/dbname or sqlite:///path/app.db"


def usable_url(value: str) -> str:
    """The URL (a relative SQLite path anchored), or ValueError with one line on why not.

    Checked before anything connects: a driver that is not installed would otherwise surface
    as a long traceback from inside create_engine, and an in-memory SQLite database would be
    migrated and thrown away (each migration command opens a connection of its own).
    """
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {value!r}") from exc
    try:
        dialect = url.get_dialect()
        dialect.import_dbapi()
    except (ImportError, NoSuchModuleError):
        driver = url.get_driver_name() or url.drivername
        raise ValueError(
            f"driver {driver!r} ({url.drivername}://) is not installed: {USE_INSTEAD}"
        ) from None
    if dialect.is_async:
        raise ValueError(
            f"{url.drivername} is an asyncio driver, Alembic here runs sync: {USE_INSTEAD}"
        )
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database in ("", ":memory:"):
        raise ValueError(
            f"an in-memory SQLite database vanishes between migration steps: {USE_INSTEAD}"
        )
    return anchor_sqlite_path(value)


def setting_error(exc: ValidationError) -> str:
    """One line for the first invalid setting: its name and what is wrong with it."""
    error = exc.errors()[0]
    reason = error.get("ctx", {}).get("error") or error["msg"]  # our ValueError, unprefixed
    return f"bad setting {error['loc'][0]}: {reason}"


class Settings(BaseSettings):
    """Where the two databases live.

    The defaults are SQLite files under var/, so the lesson runs with nothing installed.
    Point DATABASE_URL at PostgreSQL to run the same migrations there.
    """

    model_config = SettingsConfigDict(env_file=LESSON_DIR / ".env", extra="ignore")

    database_url: str = f"sqlite:///{VAR_DIR / 'app.db'}"
    # The audit log is a second database with its own migration history (alembic -n audit).
    audit_database_url: str = f"sqlite:///{VAR_DIR / 'audit.db'}"

    @field_validator("database_url", "audit_database_url")
    @classmethod
    def _usable(cls, value: str) -> str:
        # Fail at start-up with the variable's name, not later inside a migration.
        return usable_url(value)
