"""All configuration in one place, read from the environment (and an optional .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LESSON_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = LESSON_DIR / "var"


class Settings(BaseSettings):
    # The lesson's own .env, wherever Python was started from: `python 08-testing/main.py`
    # from the repository root reads 08-testing/.env, not a .env in the current directory.
    model_config = SettingsConfigDict(env_file=LESSON_DIR / ".env", extra="ignore")

    # SQLite by default so the lesson runs with no service; the compose PostgreSQL via
    # DATABASE_URL=postgresql+psycopg://postgres:postgres@localhost:5432/lessons
    database_url: str = f"sqlite:///{VAR_DIR / 'orders.db'}"
    # "sandbox://" runs the in-process stand-in provider; an http(s) URL calls a real one.
    payment_url: str = "sandbox://"
    payment_timeout_s: float = Field(default=2.0, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    seed_demo_data: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        # LOG_LEVEL=debug is what people type; logging itself only knows "DEBUG".
        return value.upper() if isinstance(value, str) else value
