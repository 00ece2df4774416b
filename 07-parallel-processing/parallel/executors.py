"""One way to map a function over tasks: serially, on threads, or on processes.

``run_map`` uses ``submit`` + ``as_completed`` rather than ``Executor.map``: results arrive in
*completion* order, which lets a progress bar move as soon as any task finishes and lets the
first failure stop the job at once; each result is put back in its task's slot, so the caller
still gets them in task order. ``Executor.map`` would yield in task order and so can sit behind
one slow task while later ones are already done.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from contextlib import nullcontext
from multiprocessing.context import BaseContext
from typing import Literal, TypeVar

from parallel.runtime import ignore_sigint, mp_context, sigint_blocked

T = TypeVar("T")
R = TypeVar("R")
Strategy = Literal["serial", "threads", "processes"]
STRATEGIES: tuple[Strategy, ...] = ("serial", "threads", "processes")


def make_executor(
    strategy: Literal["threads", "processes"],
    workers: int,
    context: BaseContext | None = None,
) -> Executor:
    """A pool of `workers`. Process workers ignore Ctrl-C: the parent decides how to stop."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if strategy == "threads":
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="map")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context or mp_context(), initializer=ignore_sigint
    )


def run_map(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    strategy: Strategy = "processes",
    workers: int = 2,
    context: BaseContext | None = None,
    on_result: Callable[[], None] | None = None,
) -> list[R]:
    """[fn(t) for t in tasks], computed with `strategy`; results in task order.

    A task that raises stops the job: pending tasks are cancelled and the exception reaches the
    caller. From a process pool it arrives with ``__cause__`` set to the worker's formatted
    traceback, so the failing line in the worker is visible in the parent. Ctrl-C does the same:
    queued tasks are cancelled, running ones finish, the workers exit, then KeyboardInterrupt
    propagates - no orphan process is left behind.
    """
    if strategy == "serial":
        out: list[R] = []
        for task in tasks:
            out.append(fn(task))
            if on_result:
                on_result()
        return out
    with make_executor(strategy, workers, context or mp_context()) as executor:
        return map_on(executor, fn, tasks, on_result)


def map_on(
    executor: Executor,
    fn: Callable[[T], R],
    tasks: Sequence[T],
    on_result: Callable[[], None] | None = None,
) -> list[R]:
    """`run_map` on a pool the caller already started (and will shut down)."""
    results: list[R | None] = [None] * len(tasks)
    try:
        # A process pool starts its workers during the first submits: keep Ctrl-C off them.
        with sigint_blocked() if isinstance(executor, ProcessPoolExecutor) else nullcontext():
            index: dict[Future[R], int] = {executor.submit(fn, t): i for i, t in enumerate(tasks)}
        for future in as_completed(index):
            results[index[future]] = future.result()  # re-raises the task's exception
            if on_result:
                on_result()
    except BaseException:
        # cancel_futures drops everything not yet started; wait=True joins the workers so that
        # none outlives this call, even on KeyboardInterrupt.
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    return results  # type: ignore[return-value]  # every slot was filled above


def _hello(pause: float) -> tuple[int, int]:
    time.sleep(pause)  # hold this worker a moment, so the next hello goes to another one
    return os.getpid(), threading.get_ident()


def start_workers(
    map_: Callable[[Callable[[float], tuple[int, int]], list[float]], Iterable[tuple[int, int]]],
    workers: int,
    timeout: float = 60.0,
) -> set[tuple[int, int]]:
    """Start every worker of a pool now: `map_` (an executor's or a Pool's `map`) runs a tiny
    task until each of the `workers` has answered one. Returns who answered: (pid, thread id).

    A pool starts its processes lazily or in the background; timing the first job on it times
    the start-up too. A service starts its pool once, at start-up, and warms it like this.
    """
    seen: set[tuple[int, int]] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < workers and time.monotonic() < deadline:
        with sigint_blocked():  # the workers start during these submits
            answers = map_(_hello, [0.005] * workers)
        seen.update(answers)
    return seen


def first_match(
    executor: Executor, fn: Callable[[T], R], tasks: Sequence[T], accept: Callable[[R], bool]
) -> tuple[R | None, int]:
    """Run tasks until one result is accepted; cancel the rest. Returns (result, cancelled).

    A task that raises ends the search the same way: the tasks not yet started are cancelled,
    then the exception reaches the caller.

    ``Future.cancel`` only succeeds for tasks that have not started: a running task cannot be
    stopped from outside (threads cannot be killed; processes could be, but only by terminating
    the whole worker). The count of cancelled tasks shows how much work was saved.
    """
    pending = {executor.submit(fn, t) for t in tasks}
    found: R | None = None
    try:
        while pending and found is None:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                # result() re-raises a task's exception: the finally below still runs, so a
                # failed search does not leave the rest of the tasks queued behind it.
                if found is None and accept(future.result()):
                    found = future.result()
    finally:
        cancelled = sum(f.cancel() for f in pending)
    return found, cancelled
