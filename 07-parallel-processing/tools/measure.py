"""Helpers for bench.py: median timings, who used the cores, and Markdown tables."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from tools.machine import TICKS, cpu_seconds, cpu_ticks


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


def task_cpu(executor: Executor, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> float:
    """CPU seconds the workers spent inside fn over all tasks (measured in each worker)."""
    return sum(executor.map(cpu_timed, [(fn, t) for t in tasks]))


@dataclass
class CoreTime:
    """Where all cores' time went during some runs, in core-seconds (Linux /proc)."""

    wall: float = 0.0
    workers: float = 0.0  # the pool's processes, task or not (unpickling, waiting loops)
    bench: float = 0.0  # this process: its thread that feeds tasks and collects results
    others: float = 0.0  # every other program on the machine
    idle: float = 0.0

    @property
    def total(self) -> float:
        return self.workers + self.bench + self.others + self.idle


def core_time(run: Callable[[], Any], worker_pids: Sequence[int], repeat: int) -> CoreTime | None:
    """Run `run()` `repeat` times and split the machine's CPU time over those runs by who used
    it: the workers (per-process CPU from /proc/<pid>/stat), this process, others, idle."""
    out = CoreTime()
    for _ in range(repeat):
        ticks0, own0 = cpu_ticks(), time.process_time()
        workers0 = [cpu_seconds(p) for p in worker_pids]
        started = time.perf_counter()
        run()
        out.wall += time.perf_counter() - started
        workers1 = [cpu_seconds(p) for p in worker_pids]
        ticks1, own1 = cpu_ticks(), time.process_time()
        if ticks0 is None or ticks1 is None or None in workers0 or None in workers1:
            return None  # not Linux
        total = (ticks1[1] - ticks0[1]) / TICKS
        idle = (ticks1[0] - ticks0[0]) / TICKS
        workers = sum(b - a for a, b in zip(workers0, workers1, strict=True))  # type: ignore[operator]
        bench = own1 - own0
        out.idle += idle
        out.workers += workers
        out.bench += bench
        out.others += max(0.0, total - idle - workers - bench)  # ticks are 10 ms: never < 0
    return out


def cores_note(
    where: CoreTime | None,
    serial: float,
    serial_cpu: float,
    serial_share: float,
    kernel_cpu: float,
    cores: int,
    runs: int,
) -> str:
    """Where the cores' time went while `cores` warm workers ran the kernel, and the speedup
    that predicts: cores x (workers' share of all cores) / (serial's share of one core) /
    (the kernel's CPU in a worker vs in the serial run)."""
    if where is None:
        return "where the cores went: needs Linux /proc"
    rows = [
        [who, seconds, f"{seconds / where.total:.0%}"]
        for who, seconds in (
            ("the workers", where.workers),
            ("bench process (tasks out, results in)", where.bench),
            ("other programs on this machine", where.others),
            ("idle", where.idle),
        )
    ]
    share = where.workers / where.total
    cost = kernel_cpu / serial_cpu
    expected = cores * share / serial_share / cost
    measured = serial / (where.wall / runs)
    # Were the other programs gone, the pool would lose only its own overhead: the bench
    # process's work and idle cores (a worker waiting for a task, or done before the other).
    own = where.workers / max(where.workers + where.bench + where.idle, 1e-9)
    return (
        f"\nWhere the {cores} cores went while {cores} warm workers ran it (from /proc):\n"
        + table(["who", "core-seconds", "share"], rows)
        + f"\nserial run: {serial_share:.0%} of a core; kernel CPU in a worker vs serial: "
        f"{cost:.2f}x\nspeedup = {cores} x {share:.0%} / {serial_share:.0%} / {cost:.2f} = "
        f"{expected:.2f}x expected; {measured:.2f}x measured in these {runs} runs\n"
        f"without the other programs: {cores} x {own:.0%} / {cost:.2f} = "
        f"{cores * own / cost:.2f}x (the pool's own losses: bench process, idle cores, CPU cost)"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats printed with 3 significant decimals."""

    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(slow: float, fast: float) -> str:
    return f"{slow / fast:.2f}x" if fast > 0 else "n/a"
