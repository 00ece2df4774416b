"""Small helpers for bench.py: median timings and Markdown tables that paste into a README."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any


def median_time(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> float:
    """Median wall time of `fn()` over `repeat` runs, after `warmup` untimed runs.

    Warm-up pays one-off costs (imports, page cache, a pool's first task) outside the timing;
    the median ignores the odd run that another process on a busy machine slowed down.
    """
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def interleaved(
    candidates: Mapping[str, Callable[[], Any]], repeat: int, warmup: int = 1
) -> dict[str, float]:
    """Median wall time of each candidate, measured in rounds: A B C, B C A, C A B, ...

    On a machine shared with other work the load changes from second to second. Timing all of
    A's runs and then all of B's would let that drift decide the ratio; taking turns spreads
    it over every candidate, and rotating the order keeps any one of them from always going
    first (cold caches) or last.
    """
    names = list(candidates)
    for name in names:
        for _ in range(warmup):
            candidates[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            candidates[name]()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(samples[name]) for name in names}


def cpu_timed(job: tuple[Callable[[Any], Any], Any]) -> float:
    """Worker task: run fn(arg) and return the CPU seconds it used in that worker."""
    fn, arg = job
    started = time.process_time()
    fn(arg)
    return time.process_time() - started


def cores_obtained(executor: Executor, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> float:
    """CPU seconds the workers used / wall seconds the job took = cores this run really got.

    On an idle machine this is close to the number of workers (up to the core count). When it
    is lower, other processes took the rest, and no code change here can buy it back.
    """
    started = time.perf_counter()
    cpu = sum(executor.map(cpu_timed, [(fn, t) for t in tasks]))
    return cpu / (time.perf_counter() - started)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats printed with 3 significant decimals."""

    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(slow: float, fast: float) -> str:
    return f"{slow / fast:.2f}x" if fast > 0 else "n/a"
