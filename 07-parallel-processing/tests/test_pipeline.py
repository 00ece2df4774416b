"""The hand-built pipeline: nothing lost, failures reported, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys

import pytest

from parallel.kernel import count_primes, split
from parallel.pipeline import WorkerCrashed, run_pipeline


def test_every_item_comes_back_exactly_once() -> None:
    tasks = split(20_000, 40)
    result = run_pipeline(count_primes, tasks, workers=3, queue_size=2)  # tiny queue: back-pressure
    assert result.submitted == 40
    assert sorted(result.results) == list(range(40))
    assert sum(result.results.values()) == 2262  # pi(20 000)
    assert not result.failed and not result.interrupted


def test_a_failing_item_is_reported_with_its_traceback_and_the_rest_still_run() -> None:
    tasks = [(0, 100), (7, 3), (100, 200)]
    result = run_pipeline(count_primes, tasks, workers=2)
    assert result.results == {0: 25, 2: 21}
    assert list(result.failed) == [1]
    assert "ValueError: bad range (7, 3)" in result.failed[1]
    assert "count_primes" in result.failed[1]


def test_an_iterator_of_items_works_and_is_consumed_lazily() -> None:
    result = run_pipeline(count_primes, iter(split(1000, 10)), workers=2)
    assert sum(result.results.values()) == 168  # pi(1000)


def test_sigint_stops_cleanly_and_accounts_for_every_item() -> None:
    tasks = split(400_000, 400)
    seen: list[int] = []

    def interrupt_after_three() -> None:
        seen.append(1)
        if len(seen) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, delivered to this process

    result = run_pipeline(
        count_primes, tasks, workers=2, queue_size=2, on_result=interrupt_after_three
    )
    assert result.interrupted
    assert 3 <= result.submitted < len(tasks)  # the producer stopped early
    assert len(result.results) + len(result.failed) == result.submitted  # nothing lost
    assert mp.active_children() == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_a_worker_that_dies_is_reported_not_waited_for_forever() -> None:
    # os._exit kills the worker without a goodbye message, as the OOM killer would.
    with pytest.raises(WorkerCrashed, match="worker-0 exited with code 3 on item 0") as info:
        run_pipeline(os._exit, [3], workers=1)
    assert info.value.lost == {"worker-0": 0}
    assert info.value.partial.submitted == 1
    assert info.value.partial.results == {}  # the one item was lost with the worker: redo it


def test_a_worker_that_exits_with_code_0_mid_job_is_a_crash_too() -> None:
    # sys.exit(0) raises SystemExit, which `except Exception` rightly does not catch: the
    # worker ends with exit code 0 but never sends its goodbye. The other worker carries on.
    items: list[object] = [(0, 100), (100, 200), 0, (200, 300), (300, 400)]
    with pytest.raises(WorkerCrashed, match="exited with code 0 on item 2 without") as info:
        run_pipeline(_count_or_exit, items, workers=2, queue_size=1)
    assert list(info.value.lost.values()) == [2]
    assert 2 not in info.value.partial.results


def _count_or_exit(item: object) -> int:
    if isinstance(item, int):
        sys.exit(item)
    return count_primes(item)  # type: ignore[arg-type]


def test_zero_workers_is_rejected() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        run_pipeline(count_primes, [(0, 1)], workers=0)
