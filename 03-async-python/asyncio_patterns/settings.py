"""Settings of the lesson, read from the environment (ASYNC_*) or a .env file."""

from __future__ import annotations

from pathlib import Path

from annotated_types import Ge, Le
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The lesson's own .env, wherever main.py is started from (not the current directory's).
ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASYNC_", env_file=ENV_FILE, extra="ignore")

    requests: int = Field(default=20, ge=1, le=1000, description="URLs the fetch demo fetches")
    latency_ms: int = Field(
        default=200, ge=0, le=10_000, description="milliseconds the local server waits per answer"
    )
    concurrency: int = Field(
        default=5, ge=1, le=1000, description="requests in flight at once in the bounded run"
    )


def limits(name: str) -> tuple[int, int]:
    """The (lowest, highest) value the field `name` accepts: the command line checks the same
    bounds as the environment without writing them a second time."""
    metadata = Settings.model_fields[name].metadata
    low = next(m.ge for m in metadata if isinstance(m, Ge))
    high = next(m.le for m in metadata if isinstance(m, Le))
    return int(low), int(high)
