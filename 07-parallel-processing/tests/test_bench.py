"""bench.py: its command line, and what it claims from its measurements."""

from __future__ import annotations

import subprocess
import sys

from conftest import LESSON

from tools.amdahl import amdahl_note


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
