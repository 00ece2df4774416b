"""Every setting of the lesson, from the environment or .env (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LESSON = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = f"sqlite:///{LESSON / 'var' / 'tokens.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JWT_", env_file=".env", extra="ignore")

    # Where refresh tokens (their hashes) live. SQLite file by default; PostgreSQL in production.
    database_url: str = Field(
        default=DEFAULT_DATABASE, validation_alias=AliasChoices("DATABASE_URL", "JWT_DATABASE_URL")
    )
    # The jti denylist and token versions. None keeps them in this process's memory.
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "JWT_REDIS_URL")
    )
    algorithm: Literal["HS256", "RS256", "ES256", "EdDSA"] = "ES256"
    issuer: str = Field(default="http://localhost:8000", min_length=1)
    audience: str = Field(default="lesson-15-api", min_length=1)
    access_ttl_s: int = Field(default=300, ge=10, le=86_400)
    refresh_ttl_s: int = Field(default=14 * 86_400, ge=60, le=365 * 86_400)
    leeway_s: int = Field(default=30, ge=0, le=300)
    key_dir: Path = LESSON / "var" / "keys"
    # When set, the protected API verifies through this JWKS URL (as a separate service
    # would) instead of reading the auth server's key ring directly.
    jwks_url: str | None = None
    jwks_cache_s: float = Field(default=300, gt=0)
    max_token_bytes: int = Field(default=8192, ge=512, le=65_536)
    max_body_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    revocation_prefix: str = Field(default="jwt:", pattern=r"^[A-Za-z0-9:_.-]{1,64}$")

    @field_validator("database_url")
    @classmethod
    def _database(cls, url: str) -> str:
        _port_is_a_number(url)
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # The bare scheme would pick psycopg2, which this lesson does not install.
            return "postgresql+psycopg://" + url.split("://", 1)[1]
        if url.startswith("postgresql+psycopg://"):
            return url
        if url.startswith("sqlite:///") and ":memory:" not in url and url != "sqlite:///":
            return url
        if url.startswith("sqlite+"):
            raise ValueError("the refresh store is synchronous: use sqlite:///path/to/tokens.db")
        if url.startswith("sqlite"):
            raise ValueError(
                "an in-memory SQLite database forgets every refresh token: use a file, "
                "sqlite:///path/to/tokens.db"
            )
        raise ValueError("use sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB")

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, url: str | None) -> str | None:
        if url in (None, ""):
            return None
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://HOST:PORT/DB (or rediss:// for TLS)")
        _port_is_a_number(url)
        return url

    @field_validator("jwks_url")
    @classmethod
    def _jwks(cls, url: str | None) -> str | None:
        if url in (None, ""):
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError("a JWKS URL is http:// or https://")
        _port_is_a_number(url)
        return url

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.leeway_s >= self.access_ttl_s:
            raise ValueError("leeway_s must be smaller than access_ttl_s")
        if self.refresh_ttl_s <= self.access_ttl_s:
            raise ValueError("refresh_ttl_s must be longer than access_ttl_s")
        if self.jwks_url and self.algorithm == "HS256":
            raise ValueError("HS256 keys are secret and never in a JWKS: unset jwks_url")
        return self

    @property
    def key_retire_after_s(self) -> int:
        """How long a key stays published after it stops signing: the last access token it
        signed lives access_ttl_s, and verifiers accept it leeway_s longer still."""
        return self.access_ttl_s + self.leeway_s


def _port_is_a_number(url: str) -> None:
    """Refuse at start what would otherwise fail on first use - as a traceback, or as a
    misleading "not reachable" (the server is fine; the URL is not)."""
    try:
        urlsplit(url).port  # noqa: B018 - the property is the check: int() of the port
    except ValueError:
        raise ValueError("the port is not a number from 0 to 65535") from None
