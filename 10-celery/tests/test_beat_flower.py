"""Beat sends what its schedule says, the nightly clean-up does its job, Flower sees the workers."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from celery import Celery
from sqlalchemy.orm import Session

from tests.conftest import free_port, wait_for
from tools.procs import ChildProcess
from uploads.celery_app import make_celery
from uploads.settings import Settings, load_settings
from uploads.store import Upload, get_upload, make_engine, runs


def test_the_crontab_entry_is_read_in_the_configured_zone() -> None:
    app = make_celery(load_settings(timezone="Europe/London", rabbitmq_url="", redis_url=""))
    nightly = app.conf.beat_schedule["nightly-cleanup"]["schedule"]
    nightly.app = app  # a schedule reads the zone from its app
    london = ZoneInfo("Europe/London")
    last_run = datetime(2027, 6, 30, 3, 0, tzinfo=london)

    # 02:59 London (01:59 UTC in summer): not due, one minute to go; 03:00:30: due.
    nightly.nowfun = lambda: datetime(2027, 7, 1, 2, 59, tzinfo=london)
    assert nightly.is_due(last_run) == (False, 60.0)
    nightly.nowfun = lambda: datetime(2027, 7, 1, 3, 0, 30, tzinfo=london)
    assert nightly.is_due(last_run).is_due is True
    assert nightly.tz == london


@pytest.mark.rabbitmq
@pytest.mark.redis
def test_beat_sends_the_interval_task_and_a_worker_runs_it(
    live_env: dict[str, str], live_settings: Settings, workers: dict[str, ChildProcess],
    tmp_path: Path,
) -> None:  # fmt: skip
    env = {**live_env, "BEAT_INTERVAL_S": "0.3"}
    beat = ChildProcess(["beat", "-s", str(tmp_path / "schedule"), "-l", "INFO"], env,
                        tmp_path / "beat.log")  # fmt: skip
    engine = make_engine(live_settings.database_url)
    try:
        ran = wait_for(lambda: len(runs(engine, "report_stats")) >= 2 and runs(engine,
                       "report_stats"))  # fmt: skip
    finally:
        beat.stop()
    assert {r.queue for r in ran} == {live_settings.queue("io")}
    assert "Scheduler: Sending due task report-stats (uploads.report_stats)" in beat.output()


@pytest.mark.rabbitmq
@pytest.mark.redis
def test_flower_lists_the_running_workers_in_its_api(
    live_env: dict[str, str], workers: dict[str, ChildProcess], live_app: Celery,
    tmp_path: Path,
) -> None:  # fmt: skip
    port = free_port()
    flower = ChildProcess([ "flower", f"--port={port}", "--address=127.0.0.1"],
                          {**live_env, "FLOWER_UNAUTHENTICATED_API": "true"},
                          tmp_path / "flower.log")  # fmt: skip

    def listed() -> list[str] | None:
        try:
            url = f"http://127.0.0.1:{port}/api/workers?refresh=1"
            with urllib.request.urlopen(url, timeout=5) as response:
                names = list(json.load(response))
        except OSError:
            return None
        return names if workers["io"].name in names else None

    try:
        names = flower.wait_for(listed, timeout=40) or listed()
    finally:
        flower.stop()
    assert {workers["io"].name, workers["cpu"].name} <= set(names or [])


@pytest.mark.rabbitmq
@pytest.mark.redis
def test_the_nightly_cleanup_removes_old_uploads_and_their_files(
    live_app: Celery, live_settings: Settings, workers: dict[str, ChildProcess], tmp_path: Path
) -> None:
    engine = make_engine(live_settings.database_url)
    old_file, new_file = tmp_path / "old.txt", tmp_path / "new.txt"
    old_file.write_text("old")
    new_file.write_text("new")
    with Session(engine) as session, session.begin():
        session.add_all([
            Upload(id=uuid.uuid4().hex, filename="old.txt", kind="text", size=3,
                   path=str(old_file), created_at=datetime.now(UTC) - timedelta(days=30)),
            Upload(id=(new_id := uuid.uuid4().hex), filename="new.txt", kind="text", size=3,
                   path=str(new_file)),
        ])  # fmt: skip

    removed = live_app.send_task("uploads.cleanup").get(timeout=30)

    assert removed == 1
    assert not old_file.exists() and new_file.exists()
    assert get_upload(engine, new_id) is not None
