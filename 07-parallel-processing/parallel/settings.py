"""Settings for main.py and bench.py; every field can be set as PARALLEL_<NAME> or in .env."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LESSON_DIR = Path(__file__).resolve().parent.parent
# The limits main.py's options check too: written once, here.
MAX_WORKERS = 256
MAX_SIZE_MB = 1024.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PARALLEL_", env_file=LESSON_DIR / ".env", extra="ignore"
    )

    workers: int = Field(default=0, ge=0, le=MAX_WORKERS)  # 0 means one per usable core
    start_method: Literal["fork", "spawn", "forkserver", ""] = ""  # "" = forkserver or spawn
    size_mb: float = Field(default=32.0, gt=0, le=MAX_SIZE_MB)  # corpus size for main.py
    shard_kb: int = Field(default=1024, ge=4, le=65536)  # text per task: bigger = less overhead
    seed: int = 42  # corpus seed: same seed, same text, same counts
    var_dir: Path = LESSON_DIR / "var"  # corpus shards live here (git-ignored)

    @field_validator("var_dir")
    @classmethod
    def _relative_to_lesson(cls, value: Path) -> Path:
        """A relative PARALLEL_VAR_DIR means inside this lesson, wherever it is run from."""
        return value if value.is_absolute() else LESSON_DIR / value
