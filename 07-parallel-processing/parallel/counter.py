"""A shared counter, three ways: racy, locked, and through a Manager.

``counter.value += 1`` is three steps - read, add, write. Two processes that read the same old
value both write old+1, and one increment is lost. A lock makes the three steps one. A Manager
keeps the value in a server process and every ``.value`` is a round trip over a socket:
correct (with its lock), flexible (any picklable object), and far slower.

How many updates a real race loses depends on the scheduler and changes from run to run.
``lockstep`` removes the luck: barriers force the worst interleaving, so the loss is certain
and its size is known in advance.
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


def _add_in_lockstep(counter: Any, rounds: int, step: Any, locked: bool) -> None:
    for _ in range(rounds):
        if locked:
            # The lock spans read, add and write, so nobody can read in between. A barrier
            # *inside* it would deadlock: the interleaving below is exactly what a lock forbids.
            with counter.get_lock():
                counter.value += 1
        else:
            seen = counter.value  # read...
            step.wait()  # ...until every process has read the same value
            counter.value = seen + 1  # then all of them write that value + 1
        step.wait()  # every write lands before the next round's reads


def lockstep(
    processes: int = 2, rounds: int = 100, locked: bool = False, context: BaseContext | None = None
) -> int:
    """`processes` processes add 1 per round for `rounds` rounds; return the final value.

    Unlocked, each round is the lost update made certain: all processes read, then all write,
    so the round's `processes` increments collapse into one and the result is exactly `rounds`.
    Locked, every process still starts each round at the same instant (the barrier releases
    them together), the lock makes them take turns, and the result is processes * rounds.
    """
    if processes < 2:
        raise ValueError(f"a race needs at least 2 processes, got {processes}")
    ctx = context or mp_context()
    shared = ctx.Value("q", 0, lock=locked)
    _run(ctx, _add_in_lockstep, (shared, rounds, ctx.Barrier(processes), locked), processes)
    return int(shared.value)


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
