"""Persistent job stores: jobs survive a restart, ids stay stable, functions must be importable."""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from scheduling.factory import JOBS_TABLE, build_scheduler
from scheduling.settings import Settings


def stopped_scheduler(settings: Settings, engine: Engine):  # noqa: ANN201 - test helper
    """A scheduler that reads and writes the store but runs nothing (started paused)."""
    scheduler = build_scheduler(settings, engine=engine)
    scheduler.start(paused=True)
    return scheduler


def test_a_job_survives_a_restart_with_its_next_run_time(
    settings: Settings, engine: Engine
) -> None:
    first = stopped_scheduler(settings, engine)
    added = first.add_job(
        "scheduling.tasks:send_report", "cron", hour=2, minute=30, args=["nightly"], id="nightly"
    )
    planned = added.next_run_time
    first.shutdown()

    second = stopped_scheduler(settings, engine)  # a new process would do exactly this
    try:
        job = second.get_job("nightly")
        assert job is not None
        assert job.next_run_time == planned
        assert job.args == ("nightly",) and job.func_ref == "scheduling.tasks:send_report"
    finally:
        second.shutdown()


def test_a_stable_id_with_replace_existing_updates_instead_of_adding_a_twin(
    settings: Settings, engine: Engine
) -> None:
    for minute in (0, 15):  # two deploys of the same start-up code, the second one changed
        scheduler = stopped_scheduler(settings, engine)
        scheduler.add_job("scheduling.tasks:tick", "cron", minute=minute, id="tick",
                          replace_existing=True)  # fmt: skip
        scheduler.shutdown()

    scheduler = stopped_scheduler(settings, engine)
    try:
        jobs = scheduler.get_jobs()
        assert [j.id for j in jobs] == ["tick"]
        assert "minute='15'" in str(jobs[0].trigger)
    finally:
        scheduler.shutdown()


def test_a_lambda_cannot_be_stored(settings: Settings, engine: Engine) -> None:
    scheduler = stopped_scheduler(settings, engine)
    try:
        with pytest.raises(ValueError, match="serialized|reference"):
            scheduler.add_job(lambda: None, "interval", seconds=60, id="anonymous")
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown()


def test_a_stored_job_whose_function_was_renamed_is_dropped_with_an_error_log(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = stopped_scheduler(settings, engine)
    scheduler.add_job("scheduling.tasks:send_report", "interval", hours=1, id="report")
    scheduler.shutdown()
    # A deploy renames send_report: the stored reference now points at nothing.
    table = scheduler._jobstores["default"].jobs_t  # noqa: SLF001 - reading the real table
    with engine.begin() as conn:
        state = pickle.loads(conn.execute(select(table.c.job_state)).scalar_one())
        state["func"] = "scheduling.tasks:send_the_report"
        conn.execute(update(table).values(job_state=pickle.dumps(state)))

    caplog.set_level(logging.ERROR, logger="apscheduler")
    again = stopped_scheduler(settings, engine)
    try:
        assert again.get_jobs() == []  # gone from the store, not just skipped
        assert "Unable to restore job" in caplog.text and "removing it" in caplog.text
    finally:
        again.shutdown()
    with engine.connect() as conn:
        assert conn.execute(select(table.c.id)).all() == []


def test_the_store_is_a_real_table_in_the_configured_database(
    settings: Settings, engine: Engine
) -> None:
    scheduler = stopped_scheduler(settings, engine)
    run_at = datetime.now(UTC) + timedelta(days=1)
    scheduler.add_job("scheduling.tasks:tick", "date", run_date=run_at, id="once")
    scheduler.shutdown()

    table = scheduler._jobstores["default"].jobs_t  # noqa: SLF001
    assert table.name == JOBS_TABLE
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.next_run_time)).all()
    # APScheduler stores next_run_time as a UTC timestamp: sortable, zone-free.
    assert rows == [("once", pytest.approx(run_at.timestamp(), abs=1e-3))]
