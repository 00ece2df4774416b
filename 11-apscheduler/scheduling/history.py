"""A job-history table filled from the scheduler's events.

APScheduler tells, per run, what happened: executed, raised, missed (too late, past
misfire_grace_time) or skipped because the previous run was still going (max_instances).
Nothing else records it: without a listener a failing job fails silently every night.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import DateTime, Dialect, Engine, Float, Integer, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

OUTCOMES = {
    EVENT_JOB_EXECUTED: "executed",
    EVENT_JOB_ERROR: "error",
    EVENT_JOB_MISSED: "missed",
    EVENT_JOB_MAX_INSTANCES: "max_instances",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite stores none of the zone and hands back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class JobRun(Base):
    __tablename__ = "job_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    # Always stored in UTC: a local time is ambiguous for an hour every autumn.
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Seconds from the hand-over to the executor until the job returned (None: it never ran).
    duration_s: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)


class HistoryRecorder:
    """Listens to job events and writes one JobRun row per run, whatever its outcome.

    A submitted run has two events: SUBMITTED (handed to the executor) and its outcome. They come
    from different threads in either order - a quick job can finish before the scheduler thread
    has announced it - so the row is written when the second of the pair arrives.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._submitted: dict[tuple[str, datetime], float] = {}
        self._finished: dict[tuple[str, datetime], JobRun] = {}
        self._missed: set[tuple[str, datetime]] = set()
        self._lock = threading.Lock()
        Base.metadata.create_all(engine)

    def attach(self, scheduler: BaseScheduler) -> None:
        mask = EVENT_JOB_SUBMITTED
        for code in OUTCOMES:
            mask |= code
        scheduler.add_listener(self, mask)

    def __call__(self, event: JobEvent) -> None:
        now = datetime.now(UTC)
        ready: list[JobRun] = []
        if isinstance(event, JobSubmissionEvent) and event.code == EVENT_JOB_SUBMITTED:
            with self._lock:
                for run_time in event.scheduled_run_times:
                    key = (event.job_id, run_time)
                    if key in self._missed:  # its MISSED event came first and was written
                        self._missed.discard(key)
                        continue
                    run = self._finished.pop(key, None)
                    if run is None:
                        self._submitted[(event.job_id, run_time)] = now.timestamp()
                    else:
                        ready.append(self._timed(run, now.timestamp()))
        elif isinstance(event, JobSubmissionEvent):  # max_instances: never handed over
            ready = [self._row(event, t, now) for t in event.scheduled_run_times]
        elif event.code == EVENT_JOB_MISSED:  # too late to run: no duration, nothing to pair
            key = (event.job_id, event.scheduled_run_time)
            with self._lock:
                if self._submitted.pop(key, None) is None:
                    self._missed.add(key)
            ready = [self._row(event, event.scheduled_run_time, now)]
        else:
            run = self._row(event, event.scheduled_run_time, now)
            with self._lock:
                started = self._submitted.pop((event.job_id, event.scheduled_run_time), None)
                if started is None:
                    self._finished[(event.job_id, event.scheduled_run_time)] = run
                else:
                    ready.append(self._timed(run, started))
        if ready:
            with Session(self.engine) as session, session.begin():
                session.add_all(ready)

    @staticmethod
    def _row(event: JobEvent, run_time: datetime, now: datetime) -> JobRun:
        error = None
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            error = f"{type(event.exception).__name__}: {event.exception}"
        return JobRun(
            job_id=event.job_id,
            outcome=OUTCOMES[event.code],
            scheduled_at=run_time,
            finished_at=now,
            duration_s=None,
            error=error,
        )

    @staticmethod
    def _timed(run: JobRun, submitted: float) -> JobRun:
        run.duration_s = max(0.0, run.finished_at.timestamp() - submitted)
        return run


def history(engine: Engine, job_id: str | None = None, limit: int = 100) -> list[JobRun]:
    """The newest runs first."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_id is not None:
        query = query.where(JobRun.job_id == job_id)
    with Session(engine) as session:
        return list(session.scalars(query))
