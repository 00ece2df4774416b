"""The promise of acks_late, on real RabbitMQ: a worker killed mid-task loses no job.

Two workers consume one queue. The one that takes the task is killed with SIGKILL after the
task's side effect: no warm shutdown, no ack. RabbitMQ sees the connection drop and delivers
the message again, to the other worker, which completes it; the idempotency key keeps the
side effect at one.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from tests.conftest import wait_for
from tools.procs import READY, ChildProcess, start_worker, stop_all
from uploads.settings import Settings
from uploads.store import effects, make_engine, runs

pytestmark = [pytest.mark.rabbitmq, pytest.mark.redis]


@pytest.fixture(scope="module")
def pair(live_env: dict[str, str], live_settings: Settings,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ChildProcess]]:  # fmt: skip
    logs = tmp_path_factory.mktemp("kill-logs")
    queue = live_settings.queue("kill")
    tag = live_settings.queue_prefix.split(".")[1]
    workers = [
        start_worker(
            f"{name}-{tag}",
            [queue],
            live_env,
            logs / f"{name}.log",
            prefetch=1,
            extra=("--include", "tests.slow_tasks"),
        )  # fmt: skip
        for name in ("a", "b")
    ]
    try:
        for worker in workers:
            worker.wait_for(READY)
        yield workers
    finally:
        stop_all(workers)


def test_a_task_on_a_killed_worker_is_redelivered_and_completed_with_one_side_effect(
    pair: list[ChildProcess], live_app: Celery, live_settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(live_settings.database_url)
    key, release = tmp_path.name, tmp_path / "release"
    result = live_app.send_task("tests.charge_then_hold", (key, str(release)),
                                queue=live_settings.queue("kill"))  # fmt: skip

    # Given the task is running, its side effect done, on one of the two workers ...
    first = wait_for(lambda: effects(engine, f"charge:{key}") and runs(engine, key))[0]
    victim = next(w for w in pair if w.pid == first.pid)
    # ... when that worker dies without a chance to ack (no warm shutdown, nothing) ...
    victim.kill()
    release.touch()

    # ... then the other worker gets the message again and completes the task.
    assert result.get(timeout=30) == "completed"
    tries = runs(engine, key)
    assert [t.redelivered for t in tries] == [False, True]
    assert tries[1].pid != victim.pid and tries[1].hostname != tries[0].hostname
    assert len(effects(engine, f"charge:{key}")) == 1


def test_a_killed_pool_process_is_rejected_and_its_task_redelivered(
    workers: dict[str, ChildProcess], live_app: Celery, live_settings: Settings, tmp_path: Path
) -> None:
    # task_reject_on_worker_lost: the worker's main process lives on and sees its pool process
    # die (the OOM killer's way); it rejects the message, and the broker hands it out again.
    engine = make_engine(live_settings.database_url)
    key, release = f"pool-{tmp_path.name}", tmp_path / "release"
    result = live_app.send_task("tests.charge_then_hold", (key, str(release)),
                                queue=live_settings.queue("cpu"))  # fmt: skip

    first = wait_for(lambda: effects(engine, f"charge:{key}") and runs(engine, key))[0]
    assert first.pid != workers["cpu"].pid  # a pool process, not the worker itself
    os.kill(first.pid, signal.SIGKILL)
    release.touch()

    assert result.get(timeout=30) == "completed"
    tries = runs(engine, key)
    assert [t.redelivered for t in tries] == [False, True]
    assert tries[1].pid != first.pid and tries[1].hostname == first.hostname
    assert len(effects(engine, f"charge:{key}")) == 1
