"""Tests for the README's exercises: deselected by default, run them with `pytest -m exercise`
once you have written the code. They fail until then."""

from __future__ import annotations

import random

import pytest

from resilience.backoff import Backoff
from resilience.retry import RetryPolicy, call_with_retries
from tests.conftest import FakeClock

pytestmark = pytest.mark.exercise


async def test_exercise_1_retry_after_is_honoured(clock: FakeClock) -> None:
    """Exercise 1: `call_with_retries(..., retry_after_of=...)` waits at least what the
    server asked for, and gives up when that is past the deadline."""
    answers = iter([(503, 2.0), (200, None)])

    async def op(seconds_left: float) -> tuple[int, float | None]:
        return next(answers)

    policy = RetryPolicy(max_attempts=3, deadline_s=10, backoff=Backoff("full", 0.01, 0.1))
    outcome = await call_with_retries(
        op, lambda a: a[0], method="GET", policy=policy, clock=clock, sleep=clock.sleep,
        rng=random.Random(1), retry_after_of=lambda a: a[1],  # type: ignore[call-arg]
    )  # fmt: skip
    assert outcome.result == (200, None)
    assert clock.now - 1000.0 >= 2.0

    answers = iter([(503, 60.0), (200, None)])
    start = clock.now
    outcome = await call_with_retries(
        op, lambda a: a[0], method="GET", policy=policy, clock=clock, sleep=clock.sleep,
        rng=random.Random(1), retry_after_of=lambda a: a[1],  # type: ignore[call-arg]
    )  # fmt: skip
    assert (outcome.stopped, clock.now) == ("deadline", start)  # 60 s > 10 s: no point waiting
