"""Settings come from the environment: monkeypatch sets it for one test and restores it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from orders.db import async_url
from orders.settings import VAR_DIR, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # autouse in this module only: a developer's own DATABASE_URL or .env must not leak in.
    for name in ("DATABASE_URL", "PAYMENT_URL", "PORT", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    # The settings read the lesson's .env; point them at this test's folder instead (no .env
    # there unless the test writes one). pydantic-settings reads model_config on every call.
    monkeypatch.setitem(Settings.model_config, "env_file", tmp_path / ".env")


def test_defaults_need_no_service() -> None:
    settings = Settings()
    assert settings.database_url == f"sqlite:///{VAR_DIR / 'orders.db'}"
    assert settings.payment_url == "sandbox://"


def test_the_environment_switches_to_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db:5432/shop")
    assert Settings().database_url == "postgresql+psycopg://u:p@db:5432/shop"


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PAYMENT_URL=http://localhost:9000\n")
    assert Settings().payment_url == "http://localhost:9000"


@pytest.mark.parametrize("port", ["-1", "70000", "eighty"], ids=["negative", "too-big", "text"])
def test_a_bad_port_is_rejected(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    monkeypatch.setenv("PORT", port)
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_the_log_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert Settings().log_level == "DEBUG"


def test_an_unknown_log_level_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(ValidationError, match="log_level"):
        Settings()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql+psycopg://postgres:postgres@localhost:5432/lessons", "postgresql+asyncpg"),
        ("postgresql://postgres@localhost/lessons", "postgresql+asyncpg"),
        ("sqlite:///:memory:", "sqlite+aiosqlite"),
    ],
    ids=["psycopg-url", "plain-postgres", "sqlite-memory"],
)
def test_database_urls_map_to_async_drivers(given: str, driver: str) -> None:
    assert async_url(given).drivername == driver


def test_a_sqlite_file_gets_its_folder_created(tmp_path: Path) -> None:
    url = async_url(f"sqlite:///{tmp_path / 'nested' / 'orders.db'}")
    assert url.drivername == "sqlite+aiosqlite"
    assert (tmp_path / "nested").is_dir()


def test_an_unsupported_database_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        async_url("mysql://localhost/shop")
