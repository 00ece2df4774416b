"""An upload through the API and real workers: routing, progress, failures, idempotency."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import wait_for
from tools.procs import ChildProcess
from uploads.api import create_app
from uploads.settings import Settings
from uploads.store import effects, get_upload, make_engine, runs

pytestmark = [pytest.mark.rabbitmq, pytest.mark.redis]


def png(width: int = 640, height: int = 480) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client(live_settings: Settings, live_app: Celery,
           workers: dict[str, ChildProcess]) -> Iterator[TestClient]:  # fmt: skip
    with TestClient(create_app(live_settings, live_app)) as client:
        yield client


def finished(client: TestClient, upload_id: str) -> dict:
    def settled() -> dict | None:
        body = client.get(f"/uploads/{upload_id}").json()
        return body if body["state"] in ("done", "failed") else None

    return wait_for(settled)


def test_an_image_is_checksummed_measured_and_thumbnailed_on_its_queues(
    client: TestClient, live_settings: Settings, workers: dict[str, ChildProcess]
) -> None:
    sent = client.post("/uploads", files={"file": ("cat.png", png(), "image/png")})
    assert sent.status_code == 202, sent.text
    upload_id = sent.json()["id"]

    body = finished(client, upload_id)

    assert body["state"] == "done" and body["progress"] == 100, body
    assert body["info"]["width"] == 640 and body["info"]["format"] == "PNG"
    with Image.open(body["info"]["thumbnail"]) as thumb:
        assert max(thumb.size) == 128
    # Routing: each step ran on the worker of its queue.
    engine = make_engine(live_settings.database_url)
    where = {run.task: (run.queue, run.hostname) for run in runs(engine, upload_id)}
    io = (live_settings.queue("io"), workers["io"].name)
    cpu = (live_settings.queue("cpu"), workers["cpu"].name)
    assert where == {"uploads.checksum": io, "uploads.metadata": io, "uploads.thumbnail": cpu,
                     "uploads.finish": io}  # fmt: skip


def test_a_text_gets_a_word_count(client: TestClient) -> None:
    text = b"the quick brown fox\njumps over the lazy dog\n"
    sent = client.post("/uploads", files={"file": ("fox.txt", text, "text/plain")})

    body = finished(client, sent.json()["id"])

    assert body["state"] == "done"
    assert body["info"] == {"lines": 2, "chars": len(text), "words": 9}


def test_a_corrupt_image_fails_once_with_the_reason_and_is_not_retried(
    client: TestClient, live_settings: Settings
) -> None:
    truncated = png()[:200]  # a PNG header, then nothing a decoder can use
    sent = client.post("/uploads", files={"file": ("bad.png", truncated, "image/png")})

    body = finished(client, sent.json()["id"])

    assert body["state"] == "failed"
    assert body["error"].startswith("thumbnail: ValueError: not a readable image"), body
    tries = [r for r in runs(make_engine(live_settings.database_url), body["id"])
             if r.task == "uploads.thumbnail"]  # fmt: skip
    assert len(tries) == 1  # permanent: not in autoretry_for


def test_a_duplicate_delivery_sends_the_notice_once(
    client: TestClient, live_app: Celery, live_settings: Settings
) -> None:
    sent = client.post("/uploads", files={"file": ("a.txt", b"one two", "text/plain")})
    upload_id = finished(client, sent.json()["id"])["id"]

    # The same message again, as the broker does after a lost ack.
    again = live_app.send_task("uploads.finish", (upload_id,)).get(timeout=30)

    engine = make_engine(live_settings.database_url)
    assert again["notified_now"] is False
    assert len(effects(engine, f"notify:{upload_id}")) == 1
    assert len([r for r in runs(engine, upload_id) if r.task == "uploads.finish"]) == 2
    assert get_upload(engine, upload_id).state == "done"


def test_a_running_step_shows_its_progress_in_the_backend_and_the_api(
    client: TestClient, live_app: Celery, live_settings: Settings, tmp_path: Path
) -> None:
    sent = client.post("/uploads", files={"file": ("p.txt", b"some words", "text/plain")})
    upload_id = finished(client, sent.json()["id"])["id"]
    release = tmp_path / "release"

    result = live_app.send_task("tests.progress_then_hold", (upload_id, str(release)))
    try:
        # The custom state, as the result backend holds it while the task runs ...
        wait_for(lambda: result.state == "PROGRESS")
        assert result.info == {"upload_id": upload_id, "step": "thumbnail", "progress": 60}
        # ... and the same progress in the app's own table, which outlives the result.
        body = client.get(f"/uploads/{upload_id}").json()
        assert (body["state"], body["step"], body["progress"]) == ("processing", "thumbnail", 60)
    finally:
        release.touch()
    assert result.get(timeout=30) == upload_id
