"""The jobs the lesson schedules.

A persistent store keeps a job's function as the text "module:function", so every job here is a
plain module-level function with JSON-like arguments: a lambda, a bound method or a closure cannot
be stored and fails at add_job with "cannot be serialized" / "could not determine a textual
reference".
"""

from __future__ import annotations

import logging
import os
import time

from sqlalchemy import Engine, create_engine, text

log = logging.getLogger("scheduling.tasks")


def send_report(name: str = "daily") -> str:
    log.info("report %s sent", name)
    return f"report {name} sent"


def flaky(fail: bool = True) -> str:
    """Fails on purpose: the listener records EVENT_JOB_ERROR with the exception."""
    if fail:
        raise RuntimeError("the report service answered 503")
    return "ok"


def overrun(seconds: float) -> str:
    """Takes longer than its interval: the next run finds it still going (max_instances)."""
    time.sleep(seconds)
    return f"slept {seconds:.2f}s"


def cpu_burn(n: int) -> int:
    """Pure Python arithmetic: holds the GIL for its whole run."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def tick() -> float:
    """Does nothing but note when it ran; the bench measures the scheduler with it."""
    return time.time()


_engines: dict[str, Engine] = {}  # one pool per database, reused across runs of the job


def note_run(database_url: str, instance: str) -> None:
    """Writes which app instance ran this job; two instances = two rows per fire time."""
    if database_url not in _engines:
        _engines[database_url] = create_engine(database_url)
    with _engines[database_url].begin() as conn:
        conn.execute(
            text("INSERT INTO instance_runs VALUES (:i, :t)"), {"i": instance, "t": time.time()}
        )


def create_instance_runs(engine: Engine) -> None:
    """The table note_run writes to; made once, before any instance starts."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS instance_runs (instance text, ran_at float)"))


def whoami() -> int:
    """The process a job ran in: the process pool's runs are not in the scheduler's process."""
    return os.getpid()
