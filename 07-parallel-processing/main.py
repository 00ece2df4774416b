"""Count the words of a generated corpus serially, then in parallel, and compare.

    python main.py                      # 32 MB corpus, one worker per core, process pool
    python main.py --workers 4 --size 64
    python main.py --strategy pipeline  # hand-built producer/worker pipeline instead of a pool
    python main.py --strategy pool      # multiprocessing.Pool.imap_unordered instead
    python main.py --strategy threads   # same job on threads: watch the speedup vanish

Ctrl-C during the parallel run stops the workers cleanly and exits 130.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console

from parallel.executors import make_executor, map_on, start_workers
from parallel.pipeline import WorkerCrashed, run_pipeline
from parallel.pools import imap_unordered_on, start_pool
from parallel.runtime import cpu_count, default_start_method, mp_context
from parallel.settings import MAX_SIZE_MB, MAX_WORKERS, Settings
from parallel.wordcount import count_file, merge
from tools.cli import OneLineParser
from tools.corpus import write_corpus
from tools.machine import cpu_seconds, machine_header
from tools.progress import bar


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # also "²", which str.isdigit() accepts and int() does not
        value = 0
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 1 to {MAX_WORKERS}, got {text!r}"
        )
    return value


def size_mb(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_SIZE_MB:
        raise argparse.ArgumentTypeError(
            f"expected megabytes in (0, {MAX_SIZE_MB:g}], got {text!r}"
        )
    return value


def parse_args(argv: list[str], settings: Settings) -> argparse.Namespace:
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=settings.workers or cpu_count(),
        help="parallel workers (default: PARALLEL_WORKERS or one per core)",
    )
    parser.add_argument(
        "--size",
        type=size_mb,
        default=settings.size_mb,
        help="corpus size in MB (default: PARALLEL_SIZE_MB = %(default)s)",
    )
    parser.add_argument(
        "--strategy", choices=("processes", "pool", "pipeline", "threads"), default="processes"
    )
    parser.add_argument(
        "--start-method",
        choices=("fork", "spawn", "forkserver"),
        default=settings.start_method or default_start_method(),
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser.parse_args(argv)


class JobFailed(RuntimeError):
    """The parallel run could not produce a result; the message says what to do about it."""


def _names(indexes: list[int], shards: list[Path], shown: int = 5) -> str:
    names = [shards[i].name for i in sorted(indexes)]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _failures(failed: dict[int, str], shards: list[Path]) -> str:
    """Every failed shard by name, then the first one's traceback from its worker."""
    first = min(failed)
    return (
        f"{len(failed)} of {len(shards)} shards failed in a worker: {_names(list(failed), shards)}"
        f"; nothing was counted. The first one's traceback:\n{failed[first].strip()}"
    )


def _crash_advice(exc: WorkerCrashed, shards: list[Path]) -> str:
    """A dead worker in terms a command-line user can act on: which shard, what to try."""
    lost = [i for i in exc.lost.values() if i is not None]
    where = f" while counting {_names(lost, shards)}" if lost else ""
    return (
        f"a worker process died{where} ({exc}); nothing was counted. "
        "Run again; exit code -9 usually means the out-of-memory killer (see `dmesg`): "
        "then use fewer --workers or a smaller PARALLEL_SHARD_KB."
    )


@dataclass
class Timed:
    counts: Counter[str]
    start_s: float | None  # starting and warming the pool; None: the pipeline starts its own
    work_s: float  # the counting itself
    cores: float | None = None  # CPU the workers used / work_s: how many cores they really got


def _cpu_of(pids: set[int]) -> float | None:
    """CPU seconds the processes `pids` have used so far (Linux /proc); None elsewhere."""
    seconds = [cpu_seconds(pid) for pid in pids]
    return None if None in seconds else sum(seconds)  # type: ignore[arg-type]


def _timed(counting: Callable[[], Counter[str]], pids: set[int], start_s: float) -> Timed:
    """Time `counting` on a warm pool, and measure how many cores its workers got meanwhile."""
    cpu0, t0 = _cpu_of(pids), time.perf_counter()
    counts = counting()
    work_s, cpu1 = time.perf_counter() - t0, _cpu_of(pids)
    cores = None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / work_s
    return Timed(counts, start_s, work_s, cores)


def count_parallel(args: argparse.Namespace, shards: list[Path], show: bool) -> Timed:
    """The parallel run; KeyboardInterrupt escapes only after every worker has exited.

    A pool's workers are started and warmed first, and that start-up is timed on its own: a
    service starts its pool once, so what matters per job is the work on a warm pool. The
    pipeline starts its own processes, so its time includes their start-up.
    """
    ctx = mp_context(args.start_method)
    label = f"{args.strategy} x{args.workers}"
    t0 = time.perf_counter()
    if args.strategy == "pipeline":
        with bar(label, len(shards), show) as advance:
            try:
                result = run_pipeline(
                    count_file, shards, workers=args.workers, context=ctx, on_result=advance
                )
            except WorkerCrashed as exc:
                raise JobFailed(_crash_advice(exc, shards)) from None
        if result.interrupted:
            done = len(result.results) + len(result.failed)
            raise KeyboardInterrupt(f"{done} of {len(shards)} shards counted")
        if result.failed:  # nothing lost silently: name every failed shard
            raise JobFailed(_failures(result.failed, shards))
        return Timed(merge(result.results.values()), None, time.perf_counter() - t0)
    if args.strategy == "pool":
        with start_pool(args.workers, ctx) as pool:
            pids = {pid for pid, _ in start_workers(pool.map, args.workers)}
            started = time.perf_counter() - t0
            with bar(label, len(shards), show) as advance:
                # chunksize 1: a shard is tens of milliseconds of work, next to which one message
                # costs nothing, and bigger chunks would only leave a worker idle at the end.
                return _timed(
                    lambda: merge(imap_unordered_on(pool, count_file, shards, 1, advance)),
                    pids,
                    started,
                )
    with make_executor(args.strategy, args.workers, ctx) as executor:
        pids = {pid for pid, _ in start_workers(executor.map, args.workers)}
        started = time.perf_counter() - t0
        with bar(label, len(shards), show) as advance:
            return _timed(
                lambda: merge(map_on(executor, count_file, shards, advance)), pids, started
            )


def run(args: argparse.Namespace, settings: Settings, out: Console) -> int:
    show = not args.no_progress
    out.print(f"machine: {machine_header()}")
    started = time.perf_counter()
    shards = write_corpus(settings.var_dir, args.size, settings.seed, settings.shard_kb)
    ready_s = time.perf_counter() - started
    # The corpus is whole shards, so --size is rounded: report the size actually counted.
    size = len(shards) * settings.shard_kb / 1024
    out.print(f"job: word count over {size:g} MB, {args.strategy} with {args.workers} workers")
    out.print(f"start method: {args.start_method}")
    out.print(f"corpus: {len(shards)} shards ready in {ready_s:.2f} s")

    started, cpu_started = time.perf_counter(), time.process_time()
    with bar("serial", len(shards), show) as advance:
        serial = merge(_counted(shards, advance))
    serial_s = time.perf_counter() - started
    # CPU seconds / wall seconds: the share of one core this process really got. Well under 1
    # means other programs are using the cores, and no speedup can reach the ideal.
    share = (time.process_time() - cpu_started) / serial_s
    out.print(f"serial:   {serial_s:6.2f} s (this process got {share:.0%} of a core)")
    if share < 0.9:
        out.print("note: the machine is busy - other work is using the cores, expect less speedup")

    out.print(f"parallel: starting {args.workers} workers", highlight=False)
    timed = count_parallel(args, shards, show)
    parallel, parallel_s = timed.counts, timed.work_s
    if timed.start_s is None:
        out.print(f"parallel: {parallel_s:6.2f} s (includes starting the workers)")
    else:
        out.print(f"parallel: {timed.start_s:6.2f} s to start and warm the workers (paid once)")
        got = "" if timed.cores is None else f" (the workers got {timed.cores:.1f} cores)"
        out.print(f"parallel: {parallel_s:6.2f} s counting on the warm pool{got}")

    same = serial == parallel
    top = ", ".join(f"{w}={n}" for w, n in serial.most_common(5))
    out.print(f"words: {serial.total()} total, {len(serial)} distinct; top: {top}")
    out.print(f"results identical: {'yes' if same else 'NO'}")
    out.print(
        f"speedup: {serial_s / parallel_s:.2f}x with {args.workers} workers "
        f"(ideal on this machine: {min(args.workers, cpu_count())}x)"
    )
    return 0 if same else 1


def _counted(shards: list[Path], advance: Callable[[], None]) -> list[Counter[str]]:
    """The serial baseline: the same map step, one shard after another."""
    out = []
    for shard in shards:
        out.append(count_file(shard))
        advance()
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = f"PARALLEL_{str(err['loc'][0]).upper()}"
        print(f"main.py: error: setting {name}: {err['msg']}", file=sys.stderr)
        return 2
    args = parse_args(sys.argv[1:] if argv is None else argv, settings)
    try:
        return run(args, settings, Console(highlight=False, soft_wrap=True))
    except KeyboardInterrupt as exc:
        detail = f" ({exc})" if str(exc) else ""
        print(f"interrupted{detail}: workers stopped, none left running", file=sys.stderr)
        return 130
    except JobFailed as exc:
        print(f"main.py: error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, RuntimeError) as exc:
        # A shard that cannot be read or counted. From a process pool the worker's traceback is
        # chained as __cause__: print that, it points at the failing line inside the worker.
        print(f"main.py: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if type(exc.__cause__).__name__.endswith("RemoteTraceback"):
            print(str(exc.__cause__).strip(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
