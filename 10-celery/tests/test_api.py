"""Bad uploads are 4xx JSON with one shape, checked before anything is stored or sent."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from uploads.api import create_app
from uploads.celery_app import make_celery
from uploads.settings import Settings, load_settings
from uploads.store import get_upload, make_engine

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def client(tmp_settings: Settings) -> Iterator[TestClient]:
    settings = tmp_settings.model_copy(update={"upload_max_bytes": 1000})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("name", "content", "content_type", "status", "code"),
    [
        ("empty.txt", b"", "text/plain", 400, "empty_file"),
        ("big.txt", b"x" * 1001, "text/plain", 413, "too_large"),
        ("a.pdf", b"%PDF-1.7", "application/pdf", 415, "unsupported_type"),
        ("fake.png", b"GIF89a....", "image/png", 415, "unsupported_type"),
        ("fake.jpg", PNG, "image/jpeg", 415, "unsupported_type"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "text/plain", 415, "unsupported_type"),
    ],
)
def test_a_bad_upload_is_refused_with_a_reason_and_nothing_is_stored(
    client: TestClient, tmp_settings: Settings, name: str, content: bytes, content_type: str,
    status: int, code: str,
) -> None:  # fmt: skip
    response = client.post("/uploads", files={"file": (name, content, content_type)})

    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["message"]
    assert not list(tmp_settings.upload_dir.glob("*"))


def test_a_body_far_over_the_cap_is_refused_before_it_is_read(client: TestClient) -> None:
    response = client.post("/uploads", content=b"x" * 100_000,
                           headers={"content-type": "multipart/form-data; boundary=x"})  # fmt: skip

    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_a_streamed_body_without_a_length_is_counted(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 1000

    response = client.post("/uploads", content=chunks(),
                           headers={"content-type": "multipart/form-data; boundary=x"})  # fmt: skip

    assert response.status_code == 413 and response.json()["error"] == "too_large"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [("/uploads/nope", 422, "invalid_id"), ("/uploads/" + "0" * 32, 404, "not_found")],
)
def test_an_unknown_or_malformed_id_is_4xx_json(
    client: TestClient, path: str, status: int, code: str
) -> None:
    response = client.get(path)

    assert response.status_code == status and response.json()["error"] == code


def test_a_form_without_a_file_is_422_json(client: TestClient) -> None:
    response = client.post("/uploads", data={"other": "1"})

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request" and "file" in response.json()["message"]


def test_a_broker_that_is_down_is_503_and_the_upload_says_it_was_not_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        port = sock.getsockname()[1]
        monkeypatch.setenv("REDIS_URL", "")
        settings = load_settings(
            rabbitmq_url=f"amqp://guest:s3cret@127.0.0.1:{port}/",
            database_url=f"sqlite:///{tmp_path / 'u.db'}", upload_dir=tmp_path / "files",
        )  # fmt: skip
        app = make_celery(settings)
        app.conf.broker_connection_timeout = 0.5
        with TestClient(create_app(settings, app), raise_server_exceptions=False) as client:
            response = client.post("/uploads", files={"file": ("a.txt", b"hi", "text/plain")})

    assert response.status_code == 503, response.text
    assert response.json()["error"] == "broker_unavailable"
    assert "s3cret" not in response.text
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        (upload_id,) = conn.exec_driver_sql("SELECT id FROM uploads").one()
    assert get_upload(engine, upload_id).state == "failed"
