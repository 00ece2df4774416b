"""Gateway configuration: the route table, the API keys and the limits, from env or code."""

from __future__ import annotations

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

    routes: list[Route] = DEFAULT_ROUTES
    api_keys: dict[str, ApiClient] = DEFAULT_KEYS
    # Token bucket: ``rate_per_s`` tokens flow in per second up to ``burst``; a request costs 1.
    rate_per_s: float = Field(default=20.0, gt=0)
    burst: int = Field(default=40, ge=1)
    # None keeps buckets in this process; a URL shares them across gateway instances.
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "GATEWAY_REDIS_URL")
    )
    rate_limit_prefix: str = "gateway:ratelimit:"
    # Passive ejection after this many consecutive failures; active probe of /health to return.
    eject_after_failures: int = Field(default=1, ge=1)
    health_interval_s: float = Field(default=2.0, gt=0)
    retry_backoff_s: float = Field(default=0.05, ge=0)
    cors_origins: list[str] = ["http://localhost:3000"]
    access_log: bool = True
