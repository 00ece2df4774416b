"""Settings of the lesson, read from the environment (ASYNC_*) or a .env file."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASYNC_", env_file=".env", extra="ignore")

    requests: int = Field(default=20, ge=1, le=1000, description="URLs fetched by main.py")
    latency_ms: int = Field(default=200, ge=0, le=10_000, description="server delay per request")
    concurrency: int = Field(default=5, ge=1, le=1000, description="requests in flight at once")
