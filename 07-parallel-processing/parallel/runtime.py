"""What the interpreter and the machine allow: cores, the GIL, start methods."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import BaseContext

START_METHODS = ("fork", "spawn", "forkserver")

# Imported once in the fork server, so every worker forked from it starts with them loaded.
# spawn and forkserver workers import the main module again (main.py, bench.py) and with it
# everything it imports. "__main__" here would avoid that, but CPython ignored it until the fix
# for gh-126631 (3.13 and 3.14 releases of late 2025); naming the heavy imports works on every
# version. A module the server cannot import is skipped silently: the worker imports it itself.
HEAVY_IMPORTS = ("numpy", "pydantic_settings", "rich.progress")


def forkserver_preload() -> list[str]:
    """__main__, this package, and those heavy modules the parent has already imported.

    Only what the parent imported: the worker's re-import of the main module will need exactly
    those, and preloading anything else (NumPy for main.py) would make the server slower to start
    for nothing.
    """
    heavy = [name for name in HEAVY_IMPORTS if name in sys.modules]
    ours = sorted(name for name in sys.modules if name.startswith("parallel."))
    return ["__main__", *heavy, *ours]


def cpu_count() -> int:
    """Cores this process may run on (honours taskset/cgroup CPU affinity where the OS has it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gil_enabled() -> bool:
    """True on a normal CPython build; False on a free-threaded (3.13t+) build run without a GIL.

    ``sys._is_gil_enabled`` exists from 3.13 on. Before that every CPython has a GIL.
    """
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def default_start_method() -> str:
    """forkserver where the platform has it, else spawn.

    Why not fork (the Linux default before 3.14)? fork copies the parent *including* locks held
    by other threads - a progress bar's refresh thread or a thread pool - and a child can then
    deadlock on a lock nobody will release. forkserver forks from a small single-threaded server
    process instead, and is Python 3.14's default on Linux. spawn is the portable fallback (and
    the only method on Windows): a fresh interpreter per worker, the slowest to start.
    """
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def mp_context(method: str | None = None) -> BaseContext:
    """A multiprocessing context: pools and queues made from it use that start method only.

    A context keeps the choice local (unlike ``mp.set_start_method``, which is global and may be
    called once), so tests and the bench can compare methods side by side in one process.
    """
    ctx = mp.get_context(method or default_start_method())
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(forkserver_preload())  # no effect once the server is running
    return ctx


def ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle.

    A terminal sends SIGINT to the whole foreground process group, so every worker would raise
    KeyboardInterrupt in the middle of a task and print its own traceback. Workers ignore it;
    the parent catches it once, cancels what has not started and lets the workers finish.
    Workers started under ``sigint_blocked`` arrive with SIGINT blocked: set SIG_IGN first,
    then unblock, so a Ctrl-C that came in meanwhile is discarded rather than delivered.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """Start worker processes inside this block so that a Ctrl-C cannot kill them mid-start.

    ``ignore_sigint`` runs only once a worker is up; a Ctrl-C that lands while it is still
    starting (importing, unpickling its target) would kill it with a traceback. A blocked signal
    mask, unlike a Python handler, is inherited through fork *and* exec, so children started
    here - including the fork server and the workers it forks - hold any SIGINT pending until
    they ignore it. The parent loses nothing either: its pending SIGINT is delivered when the
    block ends (or at once through another thread), and the caller's usual handling applies.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks, no process groups
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
