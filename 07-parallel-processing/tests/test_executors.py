"""Pools: failures travel back with their traceback, pending work can be cancelled."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from parallel.executors import first_match, make_executor, run_map, start_workers
from parallel.kernel import count_primes


def test_worker_exception_reaches_the_caller_with_the_workers_traceback() -> None:
    tasks = [(0, 100), (500, 400), (100, 200)]  # the middle task is invalid
    with pytest.raises(ValueError, match=r"bad range \(500, 400\)") as info:
        run_map(count_primes, tasks, strategy="processes", workers=2)
    # concurrent.futures chains the worker's formatted traceback as __cause__: it names the
    # function and the line that raised *in the worker process*.
    remote = str(info.value.__cause__)
    assert "Traceback" in remote
    assert "count_primes" in remote
    assert 'raise ValueError(f"bad range' in remote


def test_thread_exception_keeps_its_own_traceback() -> None:
    with pytest.raises(ValueError) as info:
        run_map(count_primes, [(9, 3)], strategy="threads", workers=1)
    assert any(entry.name == "count_primes" for entry in info.traceback)


def test_a_lambda_cannot_be_sent_to_a_process() -> None:
    # spawn/forkserver workers import the function by its qualified name; a lambda has none.
    with pytest.raises((pickle.PicklingError, AttributeError), match="pickle"):
        run_map(lambda n: n, [1], strategy="processes", workers=1)


@pytest.mark.parametrize("strategy", ["processes", "threads"])
def test_start_workers_has_every_worker_running_before_the_job(strategy: str) -> None:
    with make_executor(strategy, 2) as executor:  # type: ignore[arg-type]
        seen = start_workers(executor.map, 2)

    assert len(seen) == 2  # two distinct workers answered, not one worker twice
    pids = {pid for pid, _ in seen}
    assert pids == ({os.getpid()} if strategy == "threads" else pids - {os.getpid()})
    assert len(pids) == (1 if strategy == "threads" else 2)


def test_zero_workers_is_rejected() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        make_executor("threads", 0)


def test_first_match_cancels_tasks_that_have_not_started() -> None:
    release = threading.Event()
    ran: list[int] = []

    def task(i: int) -> int:
        ran.append(i)
        if i > 0:  # every task after the first blocks until the test releases it
            release.wait(timeout=10)
        return i

    with ThreadPoolExecutor(max_workers=1) as pool:
        found, cancelled = first_match(pool, task, list(range(10)), accept=lambda r: r == 0)
        release.set()
    assert found == 0
    # One worker: task 1 may already be running when the match arrives; 2..9 never start.
    assert cancelled >= 8
    assert len(ran) + cancelled == 10


def test_a_failing_task_cancels_the_tasks_that_have_not_started() -> None:
    release = threading.Event()
    ran: list[int] = []

    def task(i: int) -> int:
        ran.append(i)
        if i == 0:
            raise ValueError("task 0 failed")
        release.wait(timeout=10)  # the others hold on until the test has seen the error
        return i

    with ThreadPoolExecutor(max_workers=1) as pool:
        with pytest.raises(ValueError, match="task 0 failed"):
            first_match(pool, task, list(range(10)), accept=lambda r: r == 99)
        release.set()
    # One worker: task 1 may have started when task 0 failed; 2..9 were cancelled, not run.
    assert ran in ([0], [0, 1])


def test_first_match_returns_none_when_nothing_matches() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert first_match(pool, count_primes, [(0, 10), (10, 20)], lambda r: r > 99) == (None, 0)


SCRIPT = """
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

def main():
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        print("result", pool.submit(abs, -7).result())

{call}
"""


@pytest.mark.parametrize("guarded", [False, True])
def test_the_main_guard_is_what_stops_a_worker_from_starting_a_pool(
    tmp_path: Path, guarded: bool
) -> None:
    # A spawned worker imports the main script again. Unguarded, that import runs main() in
    # the worker, which tries to start a pool of its own while it is still bootstrapping.
    call = 'if __name__ == "__main__":\n    main()' if guarded else "main()"
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(SCRIPT).format(call=call), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    if guarded:
        assert done.returncode == 0 and done.stdout == "result 7\n"
    else:
        assert done.returncode != 0
        assert "bootstrapping phase" in done.stderr
