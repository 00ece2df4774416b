"""Producer -> N worker processes -> collector, with bounded queues and poison pills.

Why bounded queues: a producer faster than the workers would otherwise load the whole input
into memory. With ``maxsize`` the producer blocks (back-pressure) and memory stays flat.

Why poison pills: a worker cannot tell "queue empty for now" from "no more work". One ``None``
per worker, sent after the last item, tells each worker to finish cleanly and say so.

Nothing is lost: every item the producer sent comes back either as a result or as a failure
carrying the worker's traceback text. On Ctrl-C the producer stops sending, the workers finish
the (bounded) backlog and exit, and the caller learns how many items were never started.
"""

from __future__ import annotations

import queue
import signal
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

from parallel.runtime import ignore_sigint, mp_context, sigint_blocked

_DONE = "__worker_done__"


@dataclass
class PipelineResult:
    results: dict[int, Any] = field(default_factory=dict)  # item index -> fn(item)
    failed: dict[int, str] = field(default_factory=dict)  # item index -> worker traceback
    submitted: int = 0  # items the producer handed to the workers
    interrupted: bool = False


class WorkerCrashed(RuntimeError):
    """A worker died without saying goodbye (killed, segfault, out of memory).

    ``partial`` holds what had come back before, so finished work is not thrown away and the
    items to redo are exactly those in ``range(partial.submitted)`` missing from it.
    """

    def __init__(self, message: str, partial: PipelineResult) -> None:
        super().__init__(message)
        self.partial = partial


def _worker(fn: Callable[[Any], Any], tasks: Queue[Any], results: Queue[Any]) -> None:
    ignore_sigint()
    while (job := tasks.get()) is not None:
        index, item = job
        try:
            results.put((index, True, fn(item)))
        except Exception:  # report it, keep working: one bad item must not stop the others
            results.put((index, False, traceback.format_exc()))
    results.put(_DONE)


class _Producer(threading.Thread):
    """Feeds the task queue from the parent, so the main thread is free to collect results."""

    def __init__(self, items: Iterable[Any], tasks: Queue[Any], workers: int) -> None:
        super().__init__(name="producer", daemon=True)
        self.items, self.tasks, self.workers = items, tasks, workers
        self.stop = threading.Event()
        self.submitted = 0
        self.error: BaseException | None = None  # raised again in the caller: never swallowed

    def run(self) -> None:
        try:
            for index, item in enumerate(self.items):
                if self.stop.is_set():
                    break
                self.tasks.put((index, item))  # blocks while the queue is full: back-pressure
                self.submitted = index + 1
        except BaseException as exc:
            self.error = exc
        finally:
            # Pills go after the last item (FIFO), so every worker sees all work before its pill.
            for _ in range(self.workers):
                self.tasks.put(None)


def run_pipeline(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    workers: int = 2,
    queue_size: int | None = None,
    context: BaseContext | None = None,
    on_result: Callable[[], None] | None = None,
) -> PipelineResult:
    """Apply fn to every item on `workers` processes. See the module docstring for the rules."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    ctx = context or mp_context()
    tasks: Queue[Any] = ctx.Queue(maxsize=queue_size or 2 * workers)
    results: Queue[Any] = ctx.Queue()
    procs: list[BaseProcess] = [
        ctx.Process(target=_worker, args=(fn, tasks, results), name=f"worker-{i}")  # type: ignore[attr-defined]
        for i in range(workers)
    ]
    producer = _Producer(items, tasks, workers)
    interrupted = threading.Event()

    def on_sigint(signum: int, frame: object) -> None:
        interrupted.set()
        producer.stop.set()

    # Ctrl-C becomes a flag, checked between queue reads, so it can never land in the middle
    # of unpickling a message. It is installed before any worker exists, so from here on there
    # is no moment where an interrupt could leave a worker unjoined.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_sigint)
    out = PipelineResult()
    try:
        with sigint_blocked():
            for p in procs:
                p.start()
        producer.start()
        finished = 0
        while finished < workers:
            try:
                message = results.get(timeout=0.05)
            except queue.Empty:
                dead = [p.name for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    out.submitted = producer.submitted
                    message = f"{', '.join(dead)} died; results so far are in .partial"
                    raise WorkerCrashed(message, out) from None
                continue
            if message == _DONE:
                finished += 1
                continue
            index, ok, value = message
            if ok:
                out.results[index] = value
            else:
                out.failed[index] = value
            if on_result:
                on_result()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        producer.stop.set()
        for p in procs:
            if p.pid is None:  # never started
                continue
            p.join(timeout=5)
            if p.is_alive():  # only reached after a crash: do not leave it running
                p.terminate()
                p.join()
        if producer.is_alive():
            producer.join(timeout=1)
        for q in (tasks, results):
            q.cancel_join_thread()  # anything still buffered belongs to dead workers
            q.close()
    if producer.error is not None:
        raise producer.error
    out.interrupted = interrupted.is_set()
    out.submitted = producer.submitted
    return out
