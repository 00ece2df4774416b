"""multiprocessing.Pool: map and imap_unordered agree with serial, and chunksize batches tasks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from parallel.kernel import count_primes, split
from parallel.pools import pool_imap_unordered, pool_map
from parallel.wordcount import count_file, merge


def _pid_of(task: int) -> int:
    """Which process ran this task."""
    return os.getpid()


@pytest.mark.parametrize("chunksize", [1, 3, 64])
def test_pool_map_agrees_with_serial_whatever_the_chunksize(chunksize: int) -> None:
    tasks = split(20_000, 16)
    assert pool_map(count_primes, tasks, workers=2, chunksize=chunksize) == [
        count_primes(t) for t in tasks
    ]


def test_imap_unordered_results_go_back_to_task_order_and_tick_once_each(
    shards: list[Path],
) -> None:
    ticks: list[int] = []
    counts = pool_imap_unordered(
        count_file, shards, workers=3, chunksize=2, on_result=lambda: ticks.append(1)
    )
    assert counts == [count_file(p) for p in shards]  # each Counter in its shard's slot
    assert merge(counts) == merge(count_file(p) for p in shards)
    assert len(ticks) == len(shards)


def test_pool_map_sends_each_chunk_to_one_worker() -> None:
    # 8 tasks in chunks of 4: tasks 0-3 travel as one message and run in one process, 4-7 too.
    pids = pool_map(_pid_of, list(range(8)), workers=2, chunksize=4)
    assert len(set(pids[:4])) == 1 and len(set(pids[4:])) == 1
    assert os.getpid() not in pids


def test_imap_unordered_with_one_chunk_runs_everything_in_one_worker() -> None:
    pids = pool_imap_unordered(_pid_of, list(range(8)), workers=2, chunksize=8)
    assert len(set(pids)) == 1


def test_a_task_exception_reaches_the_caller_with_the_workers_traceback() -> None:
    with pytest.raises(ValueError, match=r"bad range \(9, 3\)") as info:
        pool_map(count_primes, [(0, 10), (9, 3)], workers=2)
    remote = str(info.value.__cause__)  # Pool chains the worker's traceback text, like futures
    assert "Traceback" in remote and "count_primes" in remote


@pytest.mark.parametrize("bad", [{"workers": 0}, {"chunksize": 0}])
def test_zero_workers_or_chunksize_is_rejected_before_any_process_starts(
    bad: dict[str, int],
) -> None:
    with pytest.raises(ValueError, match=f"{next(iter(bad))} must be >= 1"):
        pool_map(count_primes, [(0, 10)], **bad)
    with pytest.raises(ValueError, match=f"{next(iter(bad))} must be >= 1"):
        pool_imap_unordered(count_primes, [(0, 10)], **bad)
