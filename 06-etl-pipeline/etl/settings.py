"""The lesson's settings: one class, read from the environment or a .env file next to main.py."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LESSON = Path(__file__).resolve().parents[1]
VAR = LESSON / "var"


class SettingsError(ValueError):
    """A setting that cannot work: one line for the user, exit 2."""


def check_url(raw: str) -> str:
    """The forms the pipeline can use: a SQLite file or PostgreSQL through psycopg 3."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError("not a database URL (e.g. sqlite:///var/warehouse.db)") from None
    except ValueError:  # int() of the port
        raise ValueError("the port is not a number") from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise ValueError(f"driver {driver!r}: use postgresql+psycopg://user:pass@host/db")
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if driver:
            raise ValueError(f"driver {driver!r}: use sqlite:///path/to/file.db")
        if url.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database is gone when the run ends; use a file")
        if not Path(url.database).is_absolute():  # relative to the lesson, from anywhere
            url = url.set(database=str(LESSON / url.database))
    else:
        raise ValueError(f"{backend!r} is not supported: use sqlite or postgresql")
    return url.render_as_string(hide_password=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=LESSON / ".env", extra="ignore")

    # The warehouse the pipeline loads into: a SQLite file by default, PostgreSQL (COPY) by URL.
    database_url: str = f"sqlite:///{VAR / 'warehouse.db'}"
    # The legacy point-of-sale database the db extractor reads from. Unset: source.db in
    # data_dir, where generate writes it - so moving DATA_DIR moves the source along with it.
    source_database_url: str = ""
    # The source HTTP API; empty: main.py serves the lesson's own on a free port.
    source_api_url: str = ""
    # Where generate writes the CSV exports and the API's data, and run writes Parquet.
    data_dir: Path = VAR
    # Rows per load transaction: the unit of commit and of resume after a crash.
    batch_size: int = Field(default=5000, ge=1, le=1_000_000)
    # Incremental runs re-read this far behind the watermark, to catch rows that arrive late
    # (committed at the source after newer ones were already extracted).
    watermark_lookback_s: float = Field(default=3600, ge=0, le=30 * 86_400)
    # Rows per API page, and attempts per page before the source counts as failed.
    api_page_size: int = Field(default=1000, ge=1, le=10_000)
    api_attempts: int = Field(default=6, ge=1, le=20)
    # Seconds one API request may take, whole (connect + every read).
    api_timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("database_url", "source_database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value) if value else value

    @model_validator(mode="after")
    def _source_in_data_dir(self) -> Settings:
        if not self.source_database_url:
            self.source_database_url = check_url(f"sqlite:///{self.data_dir / 'source.db'}")
        return self

    @field_validator("data_dir")
    @classmethod
    def _in_lesson(cls, value: Path) -> Path:
        return value if value.is_absolute() else LESSON / value  # from any working directory

    @field_validator("source_api_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        try:
            urlsplit(value).port  # noqa: B018 - the property is the check: int() of the port
        except ValueError:
            raise ValueError("the port is not a number in 0-65535") from None
        return value.rstrip("/")

    @property
    def url(self) -> URL:
        return make_url(self.database_url)

    @property
    def source_url(self) -> URL:
        return make_url(self.source_database_url)


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        raise SettingsError(f"{field}: {str(first['msg']).removeprefix('Value error, ')}") from None


def safe_url(url: URL | str) -> str:
    return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)
