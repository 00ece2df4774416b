"""Every knob of the chat server, read once from the environment (or a `.env` file)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.connection import parse_url

# 32 bytes is the minimum HMAC-SHA256 key length PyJWT accepts without a warning.
DEV_SECRET = "dev-only-secret-change-me-in-production!"


class Settings(BaseSettings):
    """Lesson-specific variables carry a CHAT_ prefix; REDIS_URL is the name every lesson shares."""

    # hide_input_in_errors: a ValidationError, printed anywhere, must not echo REDIS_URL's password.
    model_config = SettingsConfigDict(
        env_prefix="CHAT_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    # Unset means the in-memory broker: one process, nothing to install.
    # repr=False on both secrets: a printed or logged Settings object must not show them.
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "redis_url"), repr=False
    )
    # Prefix of every Redis key and channel, so two deployments (or two test runs) never mix.
    namespace: str = Field(default="chat", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")

    secret: str = Field(default=DEV_SECRET, min_length=32, repr=False)
    token_ttl: float = Field(default=3600.0, gt=0, description="seconds a session token lives")

    heartbeat_interval: float = Field(default=10.0, gt=0)
    # Longer than the interval (checked below): a client that answers every ping is silent
    # for up to one interval between two of them.
    heartbeat_timeout: float = Field(default=30.0, gt=0)

    # Frames waiting for one slow client before it is cut off (close code 1013).
    send_queue: int = Field(default=256, ge=1)
    # How long a server-initiated close waits for the client before giving up on it.
    close_timeout: float = Field(default=5.0, gt=0)
    # Largest inbound frame in bytes; bigger ones close the connection with 1009.
    max_frame_bytes: int = Field(default=16_384, ge=256)

    # Token bucket per connection: sustained rate and burst size for inbound frames.
    rate_per_second: float = Field(default=5.0, gt=0)
    rate_burst: int = Field(default=10, ge=1)

    # Messages kept per room and sent to whoever joins. As many as the outbox holds, so a
    # client cut off as a slow consumer that rejoins at once finds the room messages it lost.
    history_size: int = Field(default=256, ge=0)
    max_rooms: int = Field(default=10, ge=1, description="rooms one connection may join")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        # Checked here so a typo is one clear line at startup, not a traceback from redis-py.
        # Every message shows the URL with its password masked.
        if not url:
            return None  # REDIS_URL= (empty) means the in-memory broker, like unset
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        try:
            parse_url(url)  # what redis-py will do with it: a bad port, a bad option...
        except ValueError as exc:
            raise ValueError(f"{exc} in {masked(url)}") from None
        database = urlsplit(url).path.strip("/")
        if not url.startswith("unix://") and database and not database.isdigit():
            # redis-py would silently use database 0 instead.
            raise ValueError(f"the database must be a number, not {database!r}, in {masked(url)}")
        return url

    @field_validator("heartbeat_timeout")
    @classmethod
    def _longer_than_the_interval(cls, timeout: float, info: ValidationInfo) -> float:
        interval = info.data.get("heartbeat_interval")  # absent if it was itself invalid
        if interval is not None and timeout <= interval:
            raise ValueError(
                f"must be longer than CHAT_HEARTBEAT_INTERVAL ({interval:g} s), "
                "or a client that answers every ping is dropped as silent"
            )
        return timeout


def masked(url: str) -> str:
    """`url` with its password (or anything before the @) replaced by ***: safe to print."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    credentials, at, host = netloc.rpartition("@")
    if sep and at:
        user, colon, _ = credentials.partition(":")
        netloc = f"{user}:***@{host}" if colon else f"***@{host}"
        url = f"{scheme}://{netloc}{slash}{tail}"
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)
