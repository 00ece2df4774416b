"""A task for the redelivery test: it does its side effect, then holds until released.

Workers in that test load it with `--include tests.slow_tasks`; the lesson's app never does.
"""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task

from uploads.store import do_once
from uploads.tasks import Step


@shared_task(bind=True, base=Step, name="tests.charge_then_hold")
def charge_then_hold(self: Step, key: str, release: str) -> str:
    self.note_run(key)
    # The side effect comes first, under an idempotency key: a redelivery must not repeat it.
    do_once(self.db, f"charge:{key}", "charged")
    while not Path(release).exists():  # the rest of a long task; the test kills us in here
        time.sleep(0.02)
    return "completed"


@shared_task(bind=True, base=Step, name="tests.progress_then_hold")
def progress_then_hold(self: Step, upload_id: str, release: str) -> str:
    """Reports progress as a pipeline step does, then waits, so a test can look at it."""
    self.progress(upload_id, "thumbnail", 60)
    while not Path(release).exists():
        time.sleep(0.02)
    return upload_id
