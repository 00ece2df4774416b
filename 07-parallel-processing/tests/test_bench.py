"""bench.py's command line: a bad argument is one line on stderr and exit 2, like main.py."""

from __future__ import annotations

import subprocess
import sys

from conftest import LESSON


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
