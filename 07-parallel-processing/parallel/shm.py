"""Sharing a large NumPy array between processes without copying it.

Passing an array to a pool worker pickles it: the parent serialises every byte, pushes it
through a pipe, and the worker allocates a copy. ``multiprocessing.shared_memory`` instead
creates one named segment (a file under /dev/shm on Linux) that every process maps into its
address space; only the segment's name, shape and dtype travel.

The owner must ``unlink`` the segment or it outlives the program (it is memory until reboot).
``shared_array`` does that in a ``finally`` block, so an exception or Ctrl-C cannot leak it.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from parallel.runtime import ignore_sigint

PREFIX = "lesson07_"  # segment names start with this, so leaks are easy to find in /dev/shm


@dataclass(frozen=True)
class ArraySpec:
    """Everything a worker needs to find the array: a few bytes to pickle."""

    name: str
    shape: tuple[int, ...]
    dtype: str


def _open(name: str) -> shared_memory.SharedMemory:
    # From 3.13 a process that only *attaches* can opt out of the resource tracker, which
    # would otherwise unlink the segment when this process exits. Before 3.13 all workers
    # share the parent's tracker, which keeps one entry per name, so attaching is harmless.
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)
    return shared_memory.SharedMemory(name=name)


def _buf(shm: shared_memory.SharedMemory) -> memoryview:
    buf = shm.buf
    if buf is None:  # only after close(): a bug in the caller, not a runtime condition
        raise RuntimeError(f"shared memory {shm.name} is already closed")
    return buf


@contextmanager
def shared_array(source: np.ndarray) -> Iterator[ArraySpec]:
    """Copy `source` into a new shared segment; yield its spec; always unlink it on exit."""
    name = f"{PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
    shm = shared_memory.SharedMemory(name=name, create=True, size=max(1, source.nbytes))
    try:
        _fill(_buf(shm), source)
        yield ArraySpec(name, tuple(source.shape), source.dtype.str)
    finally:
        shm.close()
        shm.unlink()


def _fill(buf: memoryview, source: np.ndarray) -> None:
    # The ndarray view lives only in this frame: close() refuses while a view still exports
    # the buffer (BufferError), so views are never kept beyond the function that needs them.
    view: np.ndarray = np.ndarray(source.shape, dtype=source.dtype, buffer=buf)
    view[...] = source


def snapshot(spec: ArraySpec) -> np.ndarray:
    """A private copy of the shared array as it is now (what the workers wrote is in it)."""
    shm = _open(spec.name)
    try:
        return _copy(_buf(shm), spec)
    finally:
        shm.close()


def _copy(buf: memoryview, spec: ArraySpec) -> np.ndarray:
    return np.ndarray(spec.shape, dtype=spec.dtype, buffer=buf).copy()


def leaked_segments() -> list[str]:
    """This lesson's segments still present in /dev/shm (Linux); [] elsewhere."""
    try:
        return sorted(n for n in os.listdir("/dev/shm") if n.startswith(PREFIX))
    except FileNotFoundError:
        return []


# --- worker side ---------------------------------------------------------------------------
_attached: dict[str, Any] = {}


def attach_worker(spec: ArraySpec) -> None:
    """Pool initializer: attach to the segment once per worker, not once per task."""
    ignore_sigint()
    _attached["shm"] = _open(spec.name)
    _attached["spec"] = spec


def slice_sum(bounds: tuple[int, int]) -> float:
    """Task: sum rows [lo, hi) of the array this worker attached to in ``attach_worker``."""
    spec: ArraySpec = _attached["spec"]
    arr: np.ndarray = np.ndarray(spec.shape, dtype=spec.dtype, buffer=_buf(_attached["shm"]))
    lo, hi = bounds
    return float(arr[lo:hi].sum())


def negate_slice(bounds: tuple[int, int]) -> int:
    """Task: negate rows [lo, hi) in place. The parent sees it: there is one array, not copies."""
    spec: ArraySpec = _attached["spec"]
    arr: np.ndarray = np.ndarray(spec.shape, dtype=spec.dtype, buffer=_buf(_attached["shm"]))
    lo, hi = bounds
    np.negative(arr[lo:hi], out=arr[lo:hi])  # slices never overlap: no lock needed
    return hi - lo


def whole_sum_shared(spec: ArraySpec) -> float:
    """Task: attach, sum everything, detach. The per-call cost of the shared path."""
    shm = _open(spec.name)
    try:
        return _sum(_buf(shm), spec)
    finally:
        shm.close()


def _sum(buf: memoryview, spec: ArraySpec) -> float:
    return float(np.ndarray(spec.shape, dtype=spec.dtype, buffer=buf).sum())


def whole_sum_pickled(arr: np.ndarray) -> float:
    """Task: the array arrives pickled, i.e. copied through the pool's pipe."""
    return float(arr.sum())
