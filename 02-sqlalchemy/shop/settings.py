"""Settings for the lesson, read from the environment (or a `.env` file) by pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LESSON_DIR = Path(__file__).resolve().parent.parent
# The embedded default: a SQLite file under the lesson's git-ignored var/ folder.
DEFAULT_DATABASE_URL = f"sqlite:///{LESSON_DIR / 'var' / 'shop.db'}"


class Settings(BaseSettings):
    """Every knob the lesson reads. The names match `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # A sync URL. The async variant is derived from it (see shop.db.async_url), so one
    # variable switches both the sync and the async tour between SQLite and PostgreSQL.
    database_url: str = DEFAULT_DATABASE_URL
    # QueuePool sizing: `pool_size` connections are kept open, up to `pool_max_overflow`
    # more are opened under load, and a checkout waits at most `pool_timeout` seconds.
    pool_size: int = Field(default=5, ge=1)
    pool_max_overflow: int = Field(default=5, ge=0)
    pool_timeout: float = Field(default=5.0, gt=0)
