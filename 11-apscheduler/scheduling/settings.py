"""The lesson's settings: one class, read from the environment or a .env file next to main.py."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LESSON = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = f"sqlite:///{LESSON / 'var' / 'jobs.db'}"


class SettingsError(ValueError):
    """A setting that cannot work: one line for the user, exit 2."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=LESSON / ".env", extra="ignore")

    # Where jobs and their history live. SQLite file by default; PostgreSQL via psycopg 3.
    database_url: str = DEFAULT_DATABASE
    # The zone cron fields are read in when a job does not name its own.
    scheduler_timezone: str = "UTC"
    # Threads that run jobs; a job waiting for a free thread starts late.
    scheduler_threads: int = Field(default=4, ge=1, le=64)
    # A run later than this many seconds is skipped (EVENT_JOB_MISSED) instead of run late.
    misfire_grace_time: int = Field(default=30, ge=1, le=86_400)
    # Several missed runs of one job collapse into one when the scheduler catches up.
    coalesce: bool = True
    # Runs of one job allowed at once; one more is skipped (EVENT_JOB_MAX_INSTANCES).
    max_instances: int = Field(default=1, ge=1, le=100)
    # PostgreSQL advisory lock key for leader election; 0 turns election off.
    leader_lock_key: int = Field(default=0, ge=0, le=2**63 - 1)
    # Seconds between a follower's attempts to become leader.
    leader_retry_s: float = Field(default=2.0, gt=0, le=300)

    @field_validator("scheduler_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name like Europe/London)"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        return render(check_database_url(value))

    @model_validator(mode="after")
    def _election_needs_postgres(self) -> Settings:
        if self.leader_lock_key and not self.url.drivername.startswith("postgresql"):
            raise ValueError("LEADER_LOCK_KEY needs a PostgreSQL DATABASE_URL (advisory locks)")
        return self

    @property
    def url(self) -> URL:
        return make_url(self.database_url)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.scheduler_timezone)


def check_database_url(raw: str) -> URL:
    """Accept the URL forms the job store can use; refuse the rest with a reason."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError("not a database URL (e.g. sqlite:///var/jobs.db)") from None
    except ValueError:  # int() of the port
        raise ValueError("the port is not a number") from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise ValueError(
                f"driver {driver!r}: the job store is synchronous: use "
                "postgresql+psycopg://user:pass@host:5432/db"
            )
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if driver:
            raise ValueError(f"driver {driver!r}: use sqlite:///path/to/jobs.db")
        if url.database in (None, "", ":memory:"):
            raise ValueError(
                "an in-memory SQLite store forgets every job at exit; use a file: "
                "sqlite:///var/jobs.db"
            )
        path = Path(url.database)
        if not path.is_absolute():  # relative to the lesson, wherever it is started from
            url = url.set(database=str(LESSON / path))
    else:
        raise ValueError(f"{backend!r} is not supported: use sqlite or postgresql")
    return url


def render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def safe_url(url: URL | str) -> str:
    """The URL with its password masked, for messages and logs."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; any invalid value becomes one SettingsError line."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{field}: {message}") from None
