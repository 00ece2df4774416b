"""The lesson as a user runs it: a private copy of it, and its programs in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LESSON = Path(__file__).resolve().parent.parent


def copy_of_lesson(into: Path) -> Path:
    """The lesson's code and tests under ``into``, with a var/ and a .env of its own.

    For the commands that write under var/ or read .env, so that a learner's real coverage
    report, mutation results and .env are never touched by the suite.
    """
    lesson = into / LESSON.name
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    for folder in ("orders", "tests", "testkit", "tools"):
        shutil.copytree(LESSON / folder, lesson / folder, ignore=ignore)
    for name in ("main.py", "bench.py", "pytest.ini", ".coveragerc"):
        shutil.copy(LESSON / name, lesson)
    return lesson


def run_in(
    lesson: Path, *command: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python <command>`` in ``lesson``, its output captured."""
    return subprocess.run(
        [sys.executable, *command],
        cwd=lesson,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
