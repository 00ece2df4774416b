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
_IDLE = -1  # a worker's slot in `busy` while it holds no item


@dataclass
class PipelineResult:
    results: dict[int, Any] = field(default_factory=dict)  # item index -> fn(item)
    failed: dict[int, str] = field(default_factory=dict)  # item index -> worker traceback
    submitted: int = 0  # items the producer handed to the workers
    interrupted: bool = False


class WorkerCrashed(RuntimeError):
    """A worker exited without saying goodbye (killed, segfault, out of memory, ``sys.exit``).

    ``lost`` maps each such worker's name to the index of the item it was working on (None if
    it was between items). ``partial`` holds what had come back before, so finished work is not
    thrown away and the items to redo are exactly those in ``range(partial.submitted)`` missing
    from it.
    """

    def __init__(self, message: str, partial: PipelineResult, lost: dict[str, int | None]) -> None:
        super().__init__(message)
        self.partial = partial
        self.lost = lost


def _worker(
    fn: Callable[[Any], Any], tasks: Queue[Any], results: Queue[Any], busy: Any, slot: int
) -> None:
    ignore_sigint()
    while (job := tasks.get()) is not None:
        index, item = job
        busy[slot] = index  # so the parent can name the item if this process dies inside fn
        try:
            results.put((index, True, fn(item)))
        except Exception:  # report it, keep working: one bad item must not stop the others
            results.put((index, False, traceback.format_exc()))
        busy[slot] = _IDLE
    results.put((_DONE, slot))


def _silent_exits(procs: list[BaseProcess], said_done: set[int]) -> set[int]:
    """Workers that have exited - with any exit code, 0 included - without their goodbye.

    An exit code of 0 is no proof of a finished job: ``sys.exit()`` inside fn, or a library
    calling ``os._exit(0)``, ends the worker just as quietly as the OOM killer does.
    """
    return {i for i, p in enumerate(procs) if p.exitcode is not None and i not in said_done}


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
    # One slot per worker holding the item it is on: shared memory written by one process and
    # read by the parent only after that process has exited, so it needs no lock.
    busy = ctx.Array("q", [_IDLE] * workers, lock=False)  # type: ignore[attr-defined]
    procs: list[BaseProcess] = [
        ctx.Process(target=_worker, args=(fn, tasks, results, busy, i), name=f"worker-{i}")  # type: ignore[attr-defined]
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
        said_done: set[int] = set()
        suspects: set[int] = set()
        while len(said_done) < workers:
            try:
                message = results.get(timeout=0.05)
            except queue.Empty:
                # A process flushes everything it put on a queue before it exits. So a worker
                # seen exited at the previous empty read, and still silent now that the queue
                # has been read dry again, will never send anything more: it crashed.
                gone = _silent_exits(procs, said_done)
                if crashed := gone & suspects:
                    out.submitted = producer.submitted
                    lost = {procs[i].name: _item(busy[i]) for i in sorted(crashed)}
                    raise WorkerCrashed(_crash_message(procs, crashed, busy), out, lost) from None
                suspects = gone
                continue
            if message[0] == _DONE:
                said_done.add(message[1])
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


def _item(slot_value: int) -> int | None:
    return None if slot_value == _IDLE else slot_value


def _crash_message(procs: list[BaseProcess], crashed: set[int], busy: Any) -> str:
    parts = []
    for i in sorted(crashed):
        item = _item(busy[i])
        doing = "between items" if item is None else f"on item {item}"
        parts.append(f"{procs[i].name} exited with code {procs[i].exitcode} {doing}")
    return "; ".join(parts) + " without reporting back"
