"""Settings of the lesson, read from the environment (ASYNC_*) or a .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The lesson's own .env, wherever main.py is started from (not the current directory's).
ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASYNC_", env_file=ENV_FILE, extra="ignore")

    requests: int = Field(default=20, ge=1, le=1000, description="URLs fetched by main.py")
    latency_ms: int = Field(default=200, ge=0, le=10_000, description="server delay per request")
    concurrency: int = Field(default=5, ge=1, le=1000, description="requests in flight at once")
