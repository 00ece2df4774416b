"""Retries on real workers: transient errors back off and succeed; permanent ones never retry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

from tools.procs import ChildProcess
from uploads.settings import Settings
from uploads.store import make_engine, runs

pytestmark = [pytest.mark.rabbitmq, pytest.mark.redis]


def test_a_transient_error_is_retried_with_growing_delays_then_succeeds(
    live_app: Celery, live_settings: Settings, workers: dict[str, ChildProcess]
) -> None:
    key = f"flaky-{datetime.now(UTC).timestamp()}"

    assert live_app.send_task("uploads.flaky", (key, 2)).get(timeout=30) == 2

    tries = runs(make_engine(live_settings.database_url), key)
    assert [t.retries for t in tries] == [0, 1, 2]
    # The countdown Celery chose for each retry: the retried message's ETA minus the time of
    # the try that failed. retry_backoff=1 without jitter (the tests' setting): 1 s, then 2 s.
    countdowns = [
        datetime.fromisoformat(later.eta).timestamp() - earlier.at.replace(tzinfo=UTC).timestamp()
        for earlier, later in zip(tries, tries[1:], strict=False)
    ]
    assert [round(c) for c in countdowns] == [1, 2], countdowns


def test_a_permanent_error_fails_at_once_without_a_retry(
    live_app: Celery, workers: dict[str, ChildProcess]
) -> None:
    result = live_app.send_task("uploads.fail_if", (3, 3))

    with pytest.raises(ValueError, match="3 is the bad one"):
        result.get(timeout=30)
    assert result.state == "FAILURE" and result.retries == 0


def test_a_task_past_its_soft_time_limit_gets_the_exception_and_fails(
    live_app: Celery, live_settings: Settings, workers: dict[str, ChildProcess]
) -> None:
    # The prefork `cpu` worker enforces time limits (the solo pool cannot: nothing watches it).
    result = live_app.send_task("uploads.sleepy", (5,), queue=live_settings.queue("cpu"),
                                soft_time_limit=0.2, time_limit=3)  # fmt: skip

    with pytest.raises(SoftTimeLimitExceeded):
        result.get(timeout=30)
    assert result.state == "FAILURE"
