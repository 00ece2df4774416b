"""Missed runs, coalescing, events in the history table, and which executor runs a job.

Runs that were missed are made by putting a job's next_run_time in the past while the scheduler
is paused - exactly what a scheduler finds after being down - so no test waits for them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine

from scheduling.factory import build_scheduler
from scheduling.history import HistoryRecorder, history
from scheduling.settings import Settings
from tests.conftest import wait_for


@pytest.fixture
def scheduler(settings: Settings, engine: Engine) -> Iterator[BaseScheduler]:
    """A paused scheduler with the history listener attached; shut down after the test."""
    scheduler = build_scheduler(settings, engine=engine)
    HistoryRecorder(engine).attach(scheduler)
    scheduler.start(paused=True)
    yield scheduler
    if scheduler.running:
        scheduler.shutdown(wait=True)


def outcomes(engine: Engine, job_id: str, before: datetime | None = None) -> Counter[str]:
    runs = history(engine, job_id, limit=1000)
    return Counter(r.outcome for r in runs if before is None or r.scheduled_at < before)


def come_back_after_downtime(scheduler: BaseScheduler, *, coalesce: bool, grace: int) -> datetime:
    """Ten runs, one a second, came due while the scheduler was down; now it resumes."""
    now = datetime.now(UTC)
    scheduler.add_job(
        "scheduling.tasks:tick", "interval", seconds=1, id="catchup",
        next_run_time=now - timedelta(seconds=9.5),  # due at -9.5, -8.5, ... -0.5 s
        coalesce=coalesce, misfire_grace_time=grace,
    )  # fmt: skip
    scheduler.resume()
    return now


def test_without_coalescing_young_runs_run_and_old_ones_are_missed(
    scheduler: BaseScheduler, engine: Engine
) -> None:
    resumed = come_back_after_downtime(scheduler, coalesce=False, grace=3)

    wait_for(lambda: sum(outcomes(engine, "catchup", resumed).values()) == 10)
    # Younger than 3 s: -2.5, -1.5, -0.5 run late; the seven older ones are recorded as missed.
    assert outcomes(engine, "catchup", resumed) == {"executed": 3, "missed": 7}


def test_coalescing_runs_a_backlog_once(scheduler: BaseScheduler, engine: Engine) -> None:
    resumed = come_back_after_downtime(scheduler, coalesce=True, grace=3)

    wait_for(lambda: outcomes(engine, "catchup", resumed))
    scheduler.pause()
    scheduler.shutdown(wait=True)
    assert outcomes(engine, "catchup", resumed) == {"executed": 1}


def test_the_listener_records_success_error_and_overlap(
    scheduler: BaseScheduler, engine: Engine
) -> None:
    scheduler.add_job("scheduling.tasks:send_report", "interval", seconds=0.2, id="ok")
    scheduler.add_job("scheduling.tasks:flaky", "interval", seconds=0.2, id="fails")
    # 0.6 s of work every 0.1 s with max_instances=1: fire times find it still running.
    scheduler.add_job("scheduling.tasks:overrun", "interval", seconds=0.1, args=[0.6],
                      id="slow", max_instances=1)  # fmt: skip
    scheduler.resume()

    wait_for(lambda: outcomes(engine, "slow")["max_instances"] and outcomes(engine, "slow")
             ["executed"] and outcomes(engine, "fails") and outcomes(engine, "ok"))  # fmt: skip
    scheduler.pause()

    assert set(outcomes(engine, "ok")) == {"executed"}
    errors = history(engine, "fails")
    assert {r.outcome for r in errors} == {"error"}
    assert errors[0].error == "RuntimeError: the report service answered 503"
    executed = [r for r in history(engine, "slow") if r.outcome == "executed"]
    assert executed and all(r.duration_s is not None for r in executed)
    skipped = [r for r in history(engine, "slow") if r.outcome == "max_instances"]
    assert all(r.duration_s is None for r in skipped)  # it never ran


def test_history_stores_instants_in_utc(scheduler: BaseScheduler, engine: Engine) -> None:
    scheduler.add_job("scheduling.tasks:tick", "date", run_date=datetime.now(UTC), id="now")
    scheduler.resume()

    run = wait_for(lambda: history(engine, "now"))[0]

    assert run.scheduled_at.utcoffset() == timedelta(0)
    assert abs((run.finished_at - run.scheduled_at).total_seconds()) < 60


def test_the_process_pool_runs_a_job_in_another_process(scheduler: BaseScheduler) -> None:
    results: list[int] = []

    def collect(event: JobExecutionEvent) -> None:
        results.append(event.retval)

    scheduler.add_listener(collect, EVENT_JOB_EXECUTED)
    scheduler.add_job("scheduling.tasks:whoami", "date", executor="processpool", id="p")
    scheduler.add_job("scheduling.tasks:whoami", "date", id="t")  # default: a thread
    scheduler.resume()

    wait_for(lambda: len(results) == 2, timeout=30)
    assert os.getpid() in results  # the thread pool's run
    assert len(set(results)) == 2  # and one run elsewhere: the process pool's


def test_a_run_is_recorded_once_whichever_of_its_two_events_comes_first(engine: Engine) -> None:
    from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent

    recorder = HistoryRecorder(engine)
    t1, t2 = datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC)
    # t1: announced, then finished (a slow job). t2: finished before it was announced (quick).
    recorder(JobSubmissionEvent(EVENT_JOB_SUBMITTED, "j", "default", [t1]))
    recorder(JobExecutionEvent(EVENT_JOB_EXECUTED, "j", "default", t1, retval=1))
    recorder(JobExecutionEvent(EVENT_JOB_EXECUTED, "j", "default", t2, retval=2))
    assert len(history(engine, "j")) == 1  # t2 waits for its pair
    recorder(JobSubmissionEvent(EVENT_JOB_SUBMITTED, "j", "default", [t2]))

    runs = sorted(history(engine, "j"), key=lambda r: r.scheduled_at)
    assert [(r.scheduled_at, r.outcome) for r in runs] == [(t1, "executed"), (t2, "executed")]
    assert all(r.duration_s is not None for r in runs)
