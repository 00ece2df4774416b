"""Settings: URL forms accepted or refused, the SQLite path, passwords masked."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from messaging.settings import LESSON, Settings, mask_url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("amqp://guest:guest@localhost:5672/", "amqp://guest:***@localhost:5672/"),
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
    ],
)
def test_mask_url_hides_only_the_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite://", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite:///var/x.db", str(LESSON / "var" / "x.db")),  # relative to the lesson
        ("sqlite:////tmp/x.db", "/tmp/x.db"),
    ],
)
def test_sqlite_url_forms(url: str, path: str) -> None:
    assert Settings(_env_file=None, database_url=url).sqlite_path == path  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "values",
    [
        {"redis_url": "localhost:6379"},
        {"rabbitmq_url": "http://localhost:5672"},
        {"database_url": "mysql://localhost/db"},
        {"namespace": "has space"},
        {"db_delay_ms": -1},
        {"cache_ttl_s": 1, "negative_ttl_s": 2},
        # Each of these once got past the settings and failed mid-run with a traceback.
        {"redis_url": "redis://localhost:notaport/0"},
        {"cache_ttl_s": 1e20},
        {"cache_ttl_s": 0.0004, "negative_ttl_s": 0.0001},  # PX 0
        {"stream_maxlen": 10**23},
        {"dedupe_ttl_s": 10**18},
        {"retry_delay_ms": 10**11},
    ],
)
def test_odd_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]
