"""Producer/consumer with a bounded asyncio.Queue and a shutdown that loses nothing.

The queue's `maxsize` is backpressure: a fast producer waits at `put()` instead of buffering the
whole input in memory. Shutdown order matters:

1. the producer finishes putting every item;
2. `queue.join()` waits until every item got a `task_done()` (processed *or* failed);
3. only then are the idle workers cancelled.

Cancelling workers before `join()` would drop the items still in the queue. An item whose handler
raises is not lost either: it goes to `dead_letters` with the error, where a person can find it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class PipelineResult(Generic[T, R]):
    # Lists of (item, outcome) pairs, in completion order, not dicts keyed by item: the input
    # may repeat an item (two identical orders are two orders) or hold unhashable ones, and a
    # dict would silently fold duplicates together - the very loss this pipeline promises not to
    # have. len(results) + len(dead_letters) == number of items put in.
    results: list[tuple[T, R]] = field(default_factory=list)
    dead_letters: list[tuple[T, str]] = field(default_factory=list)  # (item, "ExcType: message")
    max_queue_size: int = 0  # the fullest the queue ever got: proves backpressure held


async def run_pipeline(
    items: Iterable[T],
    handler: Callable[[T], Awaitable[R]],
    workers: int = 4,
    maxsize: int = 8,
) -> PipelineResult[T, R]:
    if workers < 1 or maxsize < 1:
        raise ValueError("workers and maxsize must be at least 1")
    queue: asyncio.Queue[T] = asyncio.Queue(maxsize=maxsize)
    outcome: PipelineResult[T, R] = PipelineResult()

    async def worker() -> None:
        while True:
            item = await queue.get()
            try:
                outcome.results.append((item, await handler(item)))
            except Exception as exc:  # a bad item must not kill the worker
                outcome.dead_letters.append((item, f"{type(exc).__name__}: {exc}"))
            finally:
                queue.task_done()  # in finally: a failed item still counts as handled

    async def producer() -> None:
        for item in items:
            await queue.put(item)  # waits while the queue is full: backpressure
            outcome.max_queue_size = max(outcome.max_queue_size, queue.qsize())

    async with asyncio.TaskGroup() as group:
        pool = [group.create_task(worker()) for _ in range(workers)]
        await producer()
        await queue.join()
        for task in pool:
            task.cancel()  # every worker is idle at get() now: nothing is in flight
    return outcome
