"""Measure when threads help, when processes help, and what pools and copies cost.

    python bench.py           # full run (~2-3 min on 2 cores), writes docs/speedup.png
    python bench.py --quick   # small sizes, well under a minute, no plot

Every section prints a Markdown table of medians and ratios measured in this one run.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from parallel.counter import KINDS, count
from parallel.executors import make_executor, start_workers
from parallel.iojobs import run_io
from parallel.ipc import round_trips
from parallel.kernel import count_primes, split
from parallel.runtime import START_METHODS, cpu_count, mp_context
from parallel.settings import Settings
from parallel.shm import shared_array, whole_sum_pickled, whole_sum_shared
from parallel.wordcount import count_file
from tools import amdahl
from tools.amdahl import amdahl_note
from tools.cli import OneLineParser
from tools.corpus import write_corpus
from tools.machine import idle_share, machine_header
from tools.measure import core_time, cores_note, interleaved, ratio, table, task_cpu
from tools.plot import speedup_plot

DOCS = Path(__file__).resolve().parent / "docs"


@dataclass(frozen=True)
class Sizes:
    repeat: int
    prime_limit: int  # CPU kernel: primes below this, cut into 64 tasks
    corpus_mb: float  # map-reduce job
    tiny_tasks: int  # chunksize section: this many tasks of 10 numbers each
    array_mb: int  # pickling vs shared memory
    increments: int  # shared counter, per process (the Manager gets 1/50 of it: it is that slow)
    io_calls: int
    io_latency: float


FULL = Sizes(3, 600_000, 32, 20_000, 100, 100_000, 100, 0.01)
QUICK = Sizes(1, 120_000, 4, 4_000, 8, 20_000, 40, 0.005)


def on_pool(executor: Executor, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
    return list(executor.map(fn, tasks))


def scaling(s: Sizes, cores: int) -> dict[str, dict[int, float]]:
    """CPU kernel: serial vs threads vs processes for 1 .. 2 x cores workers (warm pools)."""
    tasks = split(s.prime_limit, 64)
    counts = range(1, 2 * cores + 1)
    with ExitStack() as stack:
        runs: dict[str, Callable[[], object]] = {"serial": lambda: [count_primes(t) for t in tasks]}
        for strategy in ("threads", "processes"):
            for n in counts:
                ex = stack.enter_context(make_executor(strategy, n))
                runs[f"{strategy} {n}"] = partial(on_pool, ex, count_primes, tasks)
        measured = interleaved(runs, s.repeat)
        # One more serial run on both clocks: its CPU is the work itself, and CPU / wall is the
        # share of a core the serial run got (under 100% when other programs took the rest).
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for t in tasks:
            count_primes(t)
        serial_cpu = time.process_time() - cpu0
        serial_share = serial_cpu / (time.perf_counter() - wall0)
        with make_executor("processes", cores) as ex:
            pids = sorted({pid for pid, _ in start_workers(ex.map, cores)})
            where = core_time(partial(on_pool, ex, count_primes, tasks), pids, s.repeat)
            kernel_cpu = task_cpu(ex, count_primes, tasks)
    serial = measured["serial"]
    times = {
        "serial": {1: serial},
        "threads": {n: measured[f"threads {n}"] for n in counts},
        "processes": {n: measured[f"processes {n}"] for n in counts},
    }
    p = amdahl.fit({n: serial / t for n, t in times["processes"].items() if n <= cores})
    rows = []
    for n in counts:
        th, pr = times["threads"][n], times["processes"][n]
        ideal, fit = f"{min(n, cores)}x", f"{amdahl.predicted(p, min(n, cores)):.2f}x"
        rows.append([n, th, pr, ratio(serial, th), ratio(serial, pr), ideal, fit])
    limit = f"{s.prime_limit:,}"
    print(f"\n### CPU-bound kernel (primes below {limit}, 64 tasks): serial {serial:.3f} s")
    heads = ["workers", "threads s", "processes s", "threads speedup", "processes speedup"]
    print(table([*heads, "ideal", "Amdahl fit"], rows))
    print(amdahl_note(p, cores))
    print(cores_note(where, serial, serial_cpu, serial_share, kernel_cpu, cores, s.repeat))
    return times


def map_reduce(s: Sizes, cores: int, var_dir: Path) -> None:
    """The word count (map step) serially, on threads, and on pools of 1 and `cores` processes.

    The 1-worker pool does the serial work in a worker process: compared with it, serial and
    parallel run in the same kind of process, so the ratio is what the second core bought.
    """
    shards = write_corpus(var_dir, s.corpus_mb)
    with (
        make_executor("threads", cores) as th,
        make_executor("processes", 1) as one,
        make_executor("processes", cores) as pr,
    ):
        runs: dict[str, Callable[[], object]] = {
            "serial": lambda: [count_file(p) for p in shards],
            "threads": partial(on_pool, th, count_file, shards),
            "processes (1)": partial(on_pool, one, count_file, shards),
            "processes": partial(on_pool, pr, count_file, shards),
        }
        t = interleaved(runs, s.repeat)
        started = time.process_time()
        runs["serial"]()
        cpu = {"serial": time.process_time() - started}
        cpu["processes (1)"] = task_cpu(one, count_file, shards)
        cpu["processes"] = task_cpu(pr, count_file, shards)
    rows = []
    for name in t:
        per_shard = f"{cpu[name] / len(shards) * 1000:.0f}" if name in cpu else "-"
        workers = {"serial": 1, "processes (1)": 1}.get(name, cores)
        rows.append([name.split(" ")[0], workers, t[name], ratio(t["serial"], t[name]),
                     ratio(t["processes (1)"], t[name]), per_shard])  # fmt: skip
    print(f"\n### Map-reduce word count ({s.corpus_mb:g} MB, {len(shards)} shards)")
    heads = ["strategy", "workers", "median s", "vs serial", "vs 1 process", "CPU ms/shard"]
    print(table(heads, rows))


def pool_cost(s: Sizes, cores: int) -> None:
    """Start a pool, run one task per worker, shut it down: the fixed cost of a pool."""

    def start_and_stop(method: str) -> None:
        with make_executor("processes", cores, mp_context(method)) as ex:
            list(ex.map(count_primes, [(0, 10)] * cores))

    runs = {m: partial(start_and_stop, m) for m in START_METHODS}
    times = interleaved(runs, s.repeat)  # full: 3 rounds; quick: 1, after the warm-up
    rows = [[m, t * 1000, ratio(t, times["fork"])] for m, t in times.items()]
    print(f"\n### What a pool of {cores} costs to start and stop, by start method")
    print(table(["start method", "ms", "vs fork"], rows))


def chunksizes(s: Sizes, cores: int) -> None:
    tasks = split(s.tiny_tasks * 10, s.tiny_tasks)
    with mp_context().Pool(cores) as pool:

        def run(chunksize: int) -> int:
            return sum(pool.imap_unordered(count_primes, tasks, chunksize))

        t = interleaved({str(c): partial(run, c) for c in (1, 8, 64, 512)}, s.repeat)
    rows = [[c, t[c], ratio(t["1"], t[c])] for c in t]
    print(f"\n### Pool.imap_unordered over {s.tiny_tasks:,} tiny tasks: chunksize")
    print(table(["chunksize", "median s", "speedup vs 1"], rows))


def ipc(s: Sizes) -> None:
    """Round trip of one small message to another process and back."""
    messages = [(i, "task") for i in range(s.tiny_tasks // 4)]
    trips = {k: [round_trips(k, messages)[1] for _ in range(s.repeat)] for k in ("pipe", "queue")}
    started = time.perf_counter()
    for m in messages:
        (lambda x: x)(m)
    call = (time.perf_counter() - started) / len(messages)
    rows = [[k, f"{statistics.median(v) * 1e6:.1f}", ratio(statistics.median(v), call)]
            for k, v in trips.items()]  # fmt: skip
    print(f"\n### One message to another process and back ({len(messages):,} round trips)")
    print(table(["channel", "microseconds", "vs a function call"], rows))


def transfer(s: Sizes) -> None:
    arr = np.random.default_rng(1).random(s.array_mb * 1024 * 1024 // 8)

    with make_executor("processes", 1) as ex, shared_array(arr) as resident:

        def via_shm() -> float:
            with shared_array(arr) as spec:
                return ex.submit(whole_sum_shared, spec).result()

        t = interleaved(
            {
                "pickle": lambda: ex.submit(whole_sum_pickled, arr).result(),
                "copy in": via_shm,
                "attach": lambda: ex.submit(whole_sum_shared, resident).result(),
            },
            s.repeat,
        )
    rows = [
        ["pickle through the pool's pipe", t["pickle"], "1.00x"],
        ["shared_memory, copy in + attach", t["copy in"], ratio(t["pickle"], t["copy in"])],
        ["shared_memory, already there: attach", t["attach"], ratio(t["pickle"], t["attach"])],
    ]
    print(f"\n### Handing a {s.array_mb} MB float64 array to a worker (worker sums it)")
    print(table(["how", "median s", "speedup vs pickle"], rows))


def counters(s: Sizes, cores: int) -> None:
    """One run each (the Manager is too slow for repeats), all processes started together."""
    rows = []
    for kind in KINDS:
        n = s.increments // 50 if kind == "manager" else s.increments
        exact = cores * n
        started = time.perf_counter()
        final = count(kind, cores, n)
        took = time.perf_counter() - started
        rows.append([kind, f"{cores} x {n:,}", final, exact - final, took, f"{exact / took:,.0f}"])
    print(f"\n### Shared counter: {cores} processes adding 1 at a time to one number")
    print(table(["counter", "increments", "final", "lost", "s", "increments/s"], rows))


def io_bound(s: Sizes, cores: int) -> dict[str, float]:
    """Threads and asyncio get 32 slots; processes get 2 per core - each one is an interpreter."""
    slots = {"serial": 1, "threads": 32, "processes": 2 * cores, "asyncio": 32}
    runs = {st: partial(run_io, st, s.io_calls, s.io_latency, n) for st, n in slots.items()}
    times = interleaved(runs, s.repeat)
    rows = [[st, slots[st], t, ratio(times["serial"], t)] for st, t in times.items()]
    wait_ms = s.io_latency * 1000
    print(f"\n### I/O-bound: {s.io_calls} calls x {wait_ms:g} ms wait (pool start included)")
    print(table(["strategy", "concurrency", "median s", "speedup"], rows))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args(argv)
    s, cores = (QUICK if args.quick else FULL), cpu_count()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # sections as they finish
    print(f"## Measured on: {machine_header()}")
    idle = idle_share()
    idle_text = "n/a" if idle is None else f"{idle:.0%}"
    print(f"idle CPU in the second before the run: {idle_text} of the machine")
    print(f"mode: {'quick' if args.quick else 'full'}, median of {s.repeat}, start method "
          f"{mp_context().get_start_method()} unless noted")  # fmt: skip
    times = scaling(s, cores)
    map_reduce(s, cores, Settings().var_dir)
    pool_cost(s, cores)
    chunksizes(s, cores)
    ipc(s)
    transfer(s)
    counters(s, cores)
    io = io_bound(s, cores)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"\nload average at the end: {load}")
    if not args.quick:
        out = speedup_plot(times, io, cores, DOCS / "speedup.png")
        print(f"\nplot: {out.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
