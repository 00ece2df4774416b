"""A run killed with SIGKILL in the middle of a load, then rerun, ends with a clean run's rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select

from etl.pipeline import Pipeline
from etl.schema import Order, Quarantine, Run, warehouse
from etl.settings import load_settings
from sources.generate import generate

LESSON = Path(__file__).resolve().parents[1]


def rows(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with engine.connect() as conn:
        orders = sorted(tuple(r) for r in conn.execute(select(*Order.__table__.columns)).all())
        held = sorted(tuple(r) for r in conn.execute(
            select(Quarantine.source, Quarantine.position, Quarantine.reason)).all())  # fmt: skip
    return orders, held


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_killed_mid_load_then_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(data, 4_000, seed=3)
    env = {
        **os.environ, "DATA_DIR": str(data), "BATCH_SIZE": "50", "API_PAGE_SIZE": "50",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'killed.db'}", "SOURCE_API_URL": "",
        "SOURCE_DATABASE_URL": f"sqlite:///{data / 'source.db'}",
    }  # fmt: skip
    killed = create_engine(env["DATABASE_URL"])
    cmd = [sys.executable, "main.py", "run", "--no-parquet"]
    proc = subprocess.Popen(cmd, cwd=LESSON, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    try:
        # Kill it once the API source - watermark moved per batch - is part-way through.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with killed.connect() as conn:
                    counts = conn.execute(select(Run.counts)).scalar() or {}
            except Exception:  # noqa: BLE001 - the tables may not exist yet
                counts = {}
            if counts.get("api", {}).get("read", 0) >= 500:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"

    rerun = subprocess.run(cmd, cwd=LESSON, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr

    from cli import source_api

    clean_settings = load_settings(database_url=f"sqlite:///{tmp_path / 'clean.db'}",
                                   source_database_url=env["SOURCE_DATABASE_URL"],
                                   data_dir=data, batch_size=50)  # fmt: skip
    clean = warehouse(clean_settings)
    with source_api(data / "api_orders.jsonl") as url:
        Pipeline(clean_settings, clean, url).run()
    assert rows(killed) == rows(clean)
    with killed.connect() as conn:
        statuses = conn.execute(select(Run.status).order_by(Run.id)).scalars().all()
    assert statuses == ["killed", "ok"]  # the killed run says so in its record
