"""The lesson's settings: one class, read from the environment or a .env file next to main.py.

Unset, everything runs on this machine's disk: kombu's `filesystem://` transport as the broker,
SQLite for uploads and task results. RABBITMQ_URL and REDIS_URL switch to the real services.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LESSON = Path(__file__).resolve().parents[1]
VAR = LESSON / "var"


class SettingsError(ValueError):
    """A setting that cannot work: one line for the user, exit 2."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=LESSON / ".env", extra="ignore")

    # The broker. Empty: kombu's filesystem transport under var/broker (one machine only).
    rabbitmq_url: str = ""
    # Results (and the broker, if BROKER=redis). Empty: results in SQLite through SQLAlchemy.
    redis_url: str = ""
    # Which service carries the messages when both URLs are set: rabbitmq or redis.
    broker: str = "rabbitmq"
    # Uploads, their steps and the idempotency keys. A SQLite file by default.
    database_url: str = f"sqlite:///{VAR / 'uploads.db'}"
    # Where stored files and thumbnails go.
    upload_dir: Path = VAR / "files"
    # Largest file POST /uploads accepts, in bytes.
    upload_max_bytes: int = Field(default=5_000_000, ge=1, le=100_000_000)
    # Every queue (and Redis result key) this app uses starts with this: two apps, no clash.
    queue_prefix: str = "uploads."
    # The zone crontab entries are read in (beat), an IANA name.
    timezone: str = "Europe/London"
    # A task past the soft limit gets SoftTimeLimitExceeded (it may clean up); the hard
    # limit kills the pool process.
    task_soft_time_limit: float = Field(default=30.0, gt=0, le=86_400)
    task_time_limit: float = Field(default=60.0, gt=0, le=86_400)
    # A pool process is replaced after this many tasks (leaky libraries, fragmented memory).
    worker_max_tasks_per_child: int = Field(default=200, ge=1, le=1_000_000)
    # Messages a worker process holds ahead of the one it runs: 1 for long tasks.
    worker_prefetch_multiplier: int = Field(default=1, ge=1, le=1000)
    # How long a result stays in the backend, in seconds.
    result_expires: int = Field(default=3600, ge=60, le=30 * 86_400)
    # Exponential backoff of transient errors: full jitter spreads retries of many tasks.
    retry_jitter: bool = True
    retry_max: int = Field(default=5, ge=0, le=100)
    # The beat interval entry (report_stats), in seconds; the crontab entry is 03:00 nightly.
    beat_interval_s: float = Field(default=60.0, ge=0.1, le=86_400)
    # Uploads older than this many days are removed by the nightly clean-up.
    keep_days: int = Field(default=7, ge=1, le=3650)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"unknown time zone {value!r} (an IANA name like Europe/London)"
            raise ValueError(message) from None
        return value

    @field_validator("upload_dir")
    @classmethod
    def _under_lesson(cls, value: Path) -> Path:
        return value if value.is_absolute() else LESSON / value  # wherever main.py is run from

    @field_validator("rabbitmq_url")
    @classmethod
    def _amqp(cls, value: str) -> str:
        if value:
            check_url(value, ("amqp", "amqps", "pyamqp"), "amqp://guest:guest@localhost:5672/")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value:
            check_url(value, ("redis", "rediss"), "redis://localhost:6379/0")
        return value

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        if value not in ("rabbitmq", "redis"):
            raise ValueError(f"{value!r}: use rabbitmq or redis")
        return value

    @field_validator("queue_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{0,40}", value):
            raise ValueError("letters, digits, '.', '_' and '-' only, at most 40")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith("sqlite:///") or value.endswith(":memory:"):
            raise ValueError(
                "uploads live in a SQLite file that every worker process opens: "
                "sqlite:///var/uploads.db"
            )
        path = Path(value.removeprefix("sqlite:///"))
        return f"sqlite:///{path if path.is_absolute() else LESSON / path}"

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.task_soft_time_limit >= self.task_time_limit:
            raise ValueError("TASK_SOFT_TIME_LIMIT must be below TASK_TIME_LIMIT")
        if self.broker == "redis" and not self.redis_url:
            raise ValueError("BROKER=redis needs REDIS_URL")
        return self

    # --- what Celery is given ------------------------------------------------------------

    @property
    def broker_url(self) -> str:
        if self.broker == "redis" and self.redis_url:
            return self.redis_url
        return self.rabbitmq_url or "filesystem://"

    @property
    def result_backend(self) -> str:
        # Redis when given; else the uploads' SQLite file holds Celery's result tables too.
        return self.redis_url or f"db+{self.database_url}"

    @property
    def embedded(self) -> bool:
        return self.broker_url == "filesystem://"

    @property
    def database_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def queue(self, kind: str) -> str:
        return f"{self.queue_prefix}{kind}"


def check_url(value: str, schemes: tuple[str, ...], example: str) -> None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(f"the port is not a number (e.g. {example})") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"not a {schemes[0]} URL (e.g. {example})")


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; any invalid value becomes one SettingsError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{field}: {message}") from None
