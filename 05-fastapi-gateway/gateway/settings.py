"""Gateway configuration: the route table, the API keys and the limits, from env or code."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Route(BaseModel):
    """One path prefix served by one upstream service with one or more instances."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    prefix: str = Field(pattern=r"^/[A-Za-z0-9/_-]*$")
    instances: list[str] = Field(min_length=1)
    # The whole budget of a request, retries included: a client that waits 2 s waits 2 s.
    timeout_s: float = Field(default=5.0, gt=0)
    retries: int = Field(default=2, ge=0, le=5)

    @field_validator("instances")
    @classmethod
    def _no_trailing_slash(cls, urls: list[str]) -> list[str]:
        return [u.rstrip("/") for u in urls]


class ApiClient(BaseModel):
    """Who holds a key, which routes it may call ("*" = all) and, optionally, its own limit."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    routes: list[str] = ["*"]
    rate_per_s: float | None = Field(default=None, gt=0)
    burst: int | None = Field(default=None, ge=1)

    def may_call(self, route: str) -> bool:
        return "*" in self.routes or route in self.routes


DEFAULT_ROUTES = [
    Route(name="users", prefix="/users", instances=["http://127.0.0.1:8001"]),
    Route(name="orders", prefix="/orders", instances=["http://127.0.0.1:8002"]),
    Route(
        name="catalog",
        prefix="/products",
        instances=["http://127.0.0.1:8003", "http://127.0.0.1:8004"],
    ),
]
DEFAULT_KEYS = {
    "demo-key": ApiClient(name="demo"),
    "catalog-key": ApiClient(name="catalog-reader", routes=["catalog"]),
}


class GatewaySettings(BaseSettings):
    """Every field reads ``GATEWAY_<NAME>`` (complex ones as JSON); Redis reads ``REDIS_URL``."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    # At least one route: a gateway with none would answer 404 to everything and look healthy.
    routes: list[Route] = Field(default=DEFAULT_ROUTES, min_length=1)
    api_keys: dict[str, ApiClient] = DEFAULT_KEYS
    # Token bucket: ``rate_per_s`` tokens flow in per second up to ``burst``; a request costs 1.
    rate_per_s: float = Field(default=20.0, gt=0)
    burst: int = Field(default=40, ge=1)
    # None keeps buckets in this process; a URL shares them across gateway instances.
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "GATEWAY_REDIS_URL")
    )
    rate_limit_prefix: str = "gateway:ratelimit:"
    # Passive ejection after this many connection errors or timeouts in a row, or this many
    # 5xx answers in a row; an active probe of /health returns the instance.
    eject_after_failures: int = Field(default=1, ge=1)
    eject_after_5xx: int = Field(default=5, ge=1)
    health_interval_s: float = Field(default=2.0, gt=0)
    retry_backoff_s: float = Field(default=0.05, ge=0)
    # The largest request body the gateway accepts (413 above it); nginx's default is 1 MiB.
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)
    cors_origins: list[str] = ["http://localhost:3000"]
    access_log: bool = True

    @field_validator("routes")
    @classmethod
    def _distinct(cls, routes: list[Route]) -> list[Route]:
        for what in ("name", "prefix"):
            values = [getattr(r, what) for r in routes]
            if twice := sorted({v for v in values if values.count(v) > 1}):
                raise ValueError(f"two routes have the {what} {twice[0]}")
        return routes

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        """A URL redis-py would misread fails here, at startup, with what is wrong; the value
        is not repeated, since it may hold a password."""
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix://")
        try:
            port = parts.port  # raises on a port that is not a number or out of range
        except ValueError:
            raise ValueError("the port must be a number from 1 to 65535") from None
        if parts.scheme != "unix" and (not parts.hostname or port == 0):
            raise ValueError("needs a host (and a port from 1 to 65535), as in redis://host:6379/0")
        return url
