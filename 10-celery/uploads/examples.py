"""Small tasks for the canvas (chain, group, chord, chunks, starmap), retries and the bench.

They are deliberately tiny: what they show is what Celery does around a task, not the task.
"""

from __future__ import annotations

import time

from celery import shared_task

from uploads.tasks import Step, TransientError


@shared_task(name="uploads.add")
def add(x: int, y: int) -> int:
    return x + y


@shared_task(name="uploads.tsum")
def tsum(numbers: list[int]) -> int:
    """A chord's callback: gets the list of the header's results, in the header's order."""
    return sum(numbers)


@shared_task(name="uploads.noop", ignore_result=True)
def noop() -> None:
    """The bench's tiny task: all its cost is Celery's."""


@shared_task(name="uploads.fail_if")
def fail_if(x: int, bad: int) -> int:
    if x == bad:
        raise ValueError(f"{x} is the bad one")
    return x


@shared_task(name="uploads.sleepy")
def sleepy(seconds: float) -> float:
    """Waits like an I/O call would: the GIL is free, so one process can overlap many."""
    time.sleep(seconds)
    return seconds


@shared_task(name="uploads.burn")
def burn(n: int) -> int:
    """Pure Python CPU work: only more processes make more of these per second."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


@shared_task(bind=True, base=Step, name="uploads.flaky")
def flaky(self: Step, key: str, failures: int) -> int:
    """Fails with a transient error on its first `failures` tries, then succeeds.

    `autoretry_for` (from Step) turns the TransientError into a retry with exponential
    backoff; every try is recorded so the delays can be seen.
    """
    self.note_run(key)
    if self.request.retries < failures:
        raise TransientError(f"storage timed out (try {self.request.retries + 1})")
    return self.request.retries
