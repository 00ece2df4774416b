"""A shared counter, three ways: racy, locked, and through a Manager.

``counter.value += 1`` is three steps - read, add, write. Two processes that read the same old
value both write old+1, and one increment is lost. A lock makes the three steps one. A Manager
keeps the value in a server process and every ``.value`` is a round trip over a socket:
correct (with its lock), flexible (any picklable object), and far slower.
"""

from __future__ import annotations

from multiprocessing.context import BaseContext
from multiprocessing.sharedctypes import Synchronized
from typing import Any, Literal

from parallel.runtime import mp_context

Kind = Literal["unlocked", "locked", "manager"]
KINDS: tuple[Kind, ...] = ("unlocked", "locked", "manager")


def _add_unlocked(counter: Any, n: int, start: Any) -> None:
    start.wait()  # all processes begin together: maximum contention
    for _ in range(n):
        counter.value += 1  # read-modify-write with no lock: updates can be lost


def _add_locked(counter: Synchronized[int], n: int, start: Any) -> None:
    start.wait()
    for _ in range(n):
        with counter.get_lock():  # the Value's own lock, shared by every process
            counter.value += 1


def _add_managed(value: Any, lock: Any, n: int, start: Any) -> None:
    start.wait()
    for _ in range(n):
        with lock:  # a proxy lock; without it the Manager value races the same way
            value.value += 1


def count(
    kind: Kind, processes: int = 4, increments: int = 10_000, context: BaseContext | None = None
) -> int:
    """Start `processes` processes that each add 1 to one shared counter `increments` times.

    Returns the final value; the exact answer is processes * increments. Shared ctypes objects
    (``Value``) are handed to ``Process`` at start - they cannot travel through a Pool's task
    queue, which pickles its arguments.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown counter kind {kind!r}; expected one of {KINDS}")
    ctx = context or mp_context()
    if kind == "manager":
        with ctx.Manager() as manager:
            value, lock = manager.Value("q", 0), manager.Lock()
            start = ctx.Barrier(processes)
            _run(ctx, _add_managed, (value, lock, increments, start), processes)
            return int(value.value)
    shared = ctx.Value("q", 0, lock=(kind == "locked"))
    target = _add_locked if kind == "locked" else _add_unlocked
    _run(ctx, target, (shared, increments, ctx.Barrier(processes)), processes)
    return int(shared.value)


def _run(ctx: BaseContext, target: Any, args: tuple[Any, ...], processes: int) -> None:
    procs = [ctx.Process(target=target, args=args) for _ in range(processes)]  # type: ignore[attr-defined]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"{p.name} exited with code {p.exitcode}")
