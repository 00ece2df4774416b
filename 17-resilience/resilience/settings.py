"""Settings of the protected API: ``RESILIENCE_*`` and ``REDIS_URL``, from the environment or
the lesson's ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from resilience.backoff import Backoff
from resilience.ratelimit import Policy

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"
REDIS_SCHEMES = ("redis", "rediss", "unix")


def mask(url: str) -> str:
    """The URL with its password replaced by ***, for logs and error lines."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # e.g. a port that is not a number: show nothing of it
        return "<unreadable URL>"
    if not password:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESILIENCE_", env_file=ENV_FILE, extra="ignore")

    # None keeps rate-limit state in this process; a URL shares it across API processes.
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "RESILIENCE_REDIS_URL")
    )
    redis_prefix: str = Field(default="resilience:ratelimit:", max_length=100)
    rate_algorithm: Literal["fixed", "log", "counter", "token", "gcra"] = "gcra"
    rate_limit: int = Field(default=50, ge=1, le=1_000_000)  # requests per client per route ...
    rate_window_s: float = Field(default=1.0, gt=0, le=86_400)  # ... per this many seconds
    # The longest any request may take, and the deadline when the caller sends none.
    request_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # Kept back from the deadline passed downstream: time to turn an answer into ours.
    deadline_margin_s: float = Field(default=0.01, ge=0, le=1)
    # Connections to all upstreams together: the shared resource a slow one can exhaust.
    pool_size: int = Field(default=20, ge=1, le=10_000)
    bulkheads: bool = True
    bulkhead_size: int = Field(default=8, ge=1, le=10_000)  # calls in flight per upstream
    bulkhead_queue: int = Field(default=0, ge=0, le=10_000)  # waiting for a slot, then 503
    retry_attempts: int = Field(default=3, ge=1, le=10)
    retry_budget_ratio: float = Field(default=0.1, ge=0, le=1)
    backoff: Literal["none", "exponential", "full", "equal", "decorrelated"] = "full"
    backoff_base_s: float = Field(default=0.02, gt=0, le=10)
    backoff_cap_s: float = Field(default=0.5, gt=0, le=60)
    throttle: bool = True  # the client-side adaptive throttle, per upstream
    throttle_k: float = Field(default=2.0, ge=1, le=100)
    # Load shedding: handlers running at once, and requests allowed to wait for one.
    max_in_flight: int = Field(default=100, ge=1, le=100_000)
    max_queue: int = Field(default=100, ge=0, le=100_000)
    max_body_bytes: int = Field(default=4096, ge=64, le=10_000_000)
    # The two upstreams; main.py starts fault injectors for the ones left unset.
    inventory_url: str | None = None
    recommendations_url: str | None = None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in REDIS_SCHEMES:
            # Never echo the URL itself: it may carry a password. The masked form is safe.
            raise ValueError(f"must start with redis://, rediss:// or unix://, got {mask(url)}")
        try:
            urlsplit(url).port  # noqa: B018 - parsing the port is the check
        except ValueError:
            raise ValueError(f"has a port that is not a number 0-65535: {mask(url)}") from None
        return url

    @field_validator("inventory_url", "recommendations_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL, got {mask(url)}")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        self.policy()  # a limit the window cannot hold is refused here, not at the first call
        if self.backoff_base_s > self.backoff_cap_s:
            raise ValueError("backoff_base_s must not be above backoff_cap_s")
        return self

    def policy(self) -> Policy:
        return Policy(self.rate_limit, self.rate_window_s)

    def backoff_strategy(self) -> Backoff:
        return Backoff(self.backoff, self.backoff_base_s, self.backoff_cap_s)
