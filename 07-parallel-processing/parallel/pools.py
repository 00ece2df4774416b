"""``multiprocessing.Pool``: the older pool API, and the one that exposes ``chunksize``.

``Pool.map(fn, tasks, chunksize)`` cuts the task list into chunks, sends each chunk to a worker
as *one* message and returns every result, in task order, once all are done. One message per
chunk instead of one per task is the whole point: a round trip to another process costs tens of
microseconds (``ipc.py``), which dwarfs a tiny task. ``Pool.imap_unordered`` does the same but
yields each result as soon as its chunk is back, in completion order - what a progress bar
needs. Large chunks have a price too: a worker holding the last big chunk keeps the others idle.

``concurrent.futures.ProcessPoolExecutor.map`` takes a ``chunksize`` as well; ``Pool`` is shown
here because it is still what most existing code and libraries use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from multiprocessing.context import BaseContext
from multiprocessing.pool import Pool
from typing import Any, TypeVar

from parallel.runtime import ignore_sigint, mp_context, sigint_blocked

T = TypeVar("T")
R = TypeVar("R")


def start_pool(workers: int, context: BaseContext | None = None) -> Pool:
    """A `Pool` of `workers` processes that ignore Ctrl-C (the parent decides how to stop)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    with sigint_blocked():  # Pool starts every worker here, in its constructor
        return (context or mp_context()).Pool(workers, initializer=ignore_sigint)


def _check(chunksize: int) -> None:
    if chunksize < 1:  # Pool would raise a bare ValueError("Chunksize must be 1+, not 0")
        raise ValueError(f"chunksize must be >= 1, got {chunksize}")


def pool_map(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    workers: int = 2,
    chunksize: int = 1,
    context: BaseContext | None = None,
) -> list[R]:
    """[fn(t) for t in tasks] with ``Pool.map``: results in task order, all at the end.

    A task that raises makes ``map`` raise the same exception here, with the worker's
    traceback text chained as ``__cause__``. Leaving the ``with`` block - normally or on
    Ctrl-C - calls ``terminate()``, which stops and joins every worker: none outlives the call.
    """
    _check(chunksize)
    with start_pool(workers, context) as pool:
        return pool.map(fn, tasks, chunksize)


def _indexed(fn: Callable[[Any], Any], job: tuple[int, Any]) -> tuple[int, Any]:
    index, task = job
    return index, fn(task)


def pool_imap_unordered(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    workers: int = 2,
    chunksize: int = 1,
    context: BaseContext | None = None,
    on_result: Callable[[], None] | None = None,
) -> list[R]:
    """The same results with ``Pool.imap_unordered``: `on_result` fires as each task finishes.

    Results come back in completion order, so each carries its task's index (``_indexed``, a
    module-level function wrapped in ``partial``: both pickle, a lambda would not) and is put
    back in its slot - the caller still gets task order.
    """
    with start_pool(workers, context) as pool:
        return imap_unordered_on(pool, fn, tasks, chunksize, on_result)


def imap_unordered_on(
    pool: Pool,
    fn: Callable[[T], R],
    tasks: Sequence[T],
    chunksize: int = 1,
    on_result: Callable[[], None] | None = None,
) -> list[R]:
    """`pool_imap_unordered` on a Pool the caller already started (and will terminate)."""
    _check(chunksize)
    results: list[Any] = [None] * len(tasks)
    for index, value in pool.imap_unordered(partial(_indexed, fn), enumerate(tasks), chunksize):
        results[index] = value
        if on_result:
            on_result()
    return results
