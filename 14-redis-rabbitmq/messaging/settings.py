"""Every knob of the lesson, read once from the environment (or the lesson's `.env`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LESSON = Path(__file__).resolve().parent.parent
ENV_FILE = LESSON / ".env"


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class Settings(BaseSettings):
    """Lesson knobs carry an MQ_ prefix; the service URLs use the names every lesson shares."""

    model_config = SettingsConfigDict(env_prefix="MQ_", env_file=ENV_FILE, extra="ignore")

    redis_url: str = Field(
        default="redis://localhost:6379/0", validation_alias=AliasChoices("REDIS_URL", "redis_url")
    )
    rabbitmq_url: str = Field(
        default="amqp://guest:guest@localhost:5672/",
        validation_alias=AliasChoices("RABBITMQ_URL", "rabbitmq_url"),
    )
    # The slow "database" the cache sits in front of: a SQLite file by default.
    database_url: str = Field(
        default=f"sqlite:///{LESSON / 'var' / 'products.db'}",
        validation_alias=AliasChoices("DATABASE_URL", "database_url"),
    )
    # Injected delay per database query, so a cache miss costs what it costs in production.
    db_delay_ms: float = Field(default=20.0, ge=0, le=10_000)

    # Prefix of every Redis key, stream, exchange and queue, so two users of one server never mix.
    namespace: str = Field(default="lesson14", pattern=r"^[A-Za-z0-9_.-]{1,64}$")

    # Bounded both ways: Redis takes a lifetime in whole milliseconds (PX 0 is an error) and
    # refuses one that overflows, so a value outside the range would fail only mid-run.
    cache_ttl_s: float = Field(default=60.0, ge=0.001, le=30 * 86_400)
    # A miss ("no such product") is cached too, for a shorter time: a flood of lookups for an
    # id that does not exist would otherwise all reach the database.
    negative_ttl_s: float = Field(default=5.0, ge=0.001, le=30 * 86_400)
    # How long a single-flight lock lives if its holder dies before releasing it.
    lock_ttl_ms: int = Field(default=5_000, ge=10, le=3_600_000)

    # Unacknowledged messages RabbitMQ hands one consumer at a time (basic.qos).
    prefetch: int = Field(default=20, ge=1, le=65_535)
    # Attempts a failing message gets (the first delivery included) before it is parked.
    max_attempts: int = Field(default=3, ge=1, le=100)
    # How long a failed message waits in the retry queue before it comes back.
    retry_delay_ms: int = Field(default=1_000, ge=1, le=86_400_000)
    # Deliveries a quorum queue allows before it dead-letters a message that is never acked
    # (a consumer crashing on it). RabbitMQ 4 defaults to 20, 3.x to unlimited: set explicitly.
    delivery_limit: int = Field(default=5, ge=1, le=1_000)
    # Entries a stream keeps (approximately: MAXLEN ~ trims whole nodes only).
    stream_maxlen: int = Field(default=10_000, ge=1, le=1_000_000_000)
    # How long a processed message id is remembered by an idempotent consumer.
    dedupe_ttl_s: int = Field(default=86_400, ge=1, le=365 * 86_400)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str) -> str:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        try:
            urlsplit(url).port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            raise ValueError("the port is not a number") from None
        return url

    @field_validator("rabbitmq_url")
    @classmethod
    def _amqp_scheme(cls, url: str) -> str:
        if not url.startswith(("amqp://", "amqps://")):
            raise ValueError("must start with amqp:// or amqps://")
        try:
            urlsplit(url).port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            raise ValueError("the port is not a number") from None
        return url

    @field_validator("database_url")
    @classmethod
    def _sqlite_only(cls, url: str) -> str:
        # The "database" is only the slow thing behind the cache; SQLite needs no server.
        if not url.startswith("sqlite://"):
            raise ValueError("this lesson's product table is SQLite: use sqlite:///path/to.db")
        return url

    @model_validator(mode="after")
    def _negative_shorter(self) -> Settings:
        if self.negative_ttl_s > self.cache_ttl_s:
            raise ValueError("MQ_NEGATIVE_TTL_S must not exceed MQ_CACHE_TTL_S")
        return self

    @property
    def sqlite_path(self) -> str:
        """The file behind DATABASE_URL (sqlite:///rel/path or sqlite:////abs/path), or
        ':memory:' for sqlite:// and sqlite:///:memory:."""
        path = self.database_url.removeprefix("sqlite://").removeprefix("/")
        if path in ("", ":memory:"):
            return ":memory:"
        # A relative path is relative to the lesson, wherever main.py is started from.
        return str(LESSON / path)
