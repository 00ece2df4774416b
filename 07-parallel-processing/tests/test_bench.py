"""bench.py: its command line, and what it claims from its measurements."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LESSON

from bench import QUICK, map_reduce
from parallel.executors import make_executor, start_workers
from parallel.kernel import count_primes, split
from tools.amdahl import amdahl_note
from tools.measure import core_time


def test_bench_bad_argument_is_one_line_on_stderr_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "bench.py", "--quik"],
        cwd=LESSON,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == "bench.py: error: unrecognized arguments: --quik\n"
    assert done.stdout == ""


def test_the_amdahl_ceiling_says_how_few_points_it_rests_on() -> None:
    # On 2 cores only the 2-worker speedup says anything about p: the ceiling is a guess.
    two = amdahl_note(0.917, 2)
    assert "fitted to 1 point (the speedup at 2 workers)" in two
    assert "12.0x - extrapolated from 1 point far past 2 cores: indicative only" in two
    assert "fitted to 3 points (the speedup at 2..4 workers)" in amdahl_note(0.95, 4)
    assert amdahl_note(0.5, 1) == "Amdahl fit: not possible on 1 core (no speedup to fit)"


def test_the_word_count_compares_processes_with_a_one_worker_pool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Serial runs in the bench's own process, the pools in fresh workers: the 1-worker pool row
    # is the like-for-like baseline, and CPU per shard shows what each kind of process costs.
    tiny = dataclasses.replace(QUICK, corpus_mb=2 / 1024 * 16, repeat=1)
    map_reduce(tiny, 2, tmp_path)

    out = capsys.readouterr().out
    assert "| strategy | workers | median s | vs serial | vs 1 process | CPU ms/shard |" in out
    rows = [line.split(" | ") for line in out.splitlines() if line.startswith("| processes")]
    assert [row[1] for row in rows] == ["1", "2"]
    assert rows[0][4] == "1.00x"  # the 1-worker pool is its own baseline


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_core_time_accounts_for_every_core_second_of_the_run() -> None:
    with make_executor("processes", 2) as ex:
        pids = sorted({pid for pid, _ in start_workers(ex.map, 2)})
        where = core_time(lambda: list(ex.map(count_primes, split(60_000, 8))), pids, 2)

    assert where is not None
    assert where.workers > 0  # the kernel ran in the workers, and /proc saw it
    # Workers + bench + others + idle is all the machine's CPU time: about cores x wall time
    # (the kernel counts in 10 ms ticks, hence the slack; this is bookkeeping, not speed).
    cores = os.cpu_count() or 1
    assert abs(where.total - cores * where.wall) <= 0.05 * cores + 0.1 * cores * where.wall
