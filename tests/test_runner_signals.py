"""lessons.py hands Ctrl-C to the lesson and waits for its shutdown instead of cutting it short."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A lesson stand-in whose clean shutdown takes a while, like a main.py stopping its servers.
SLOW_SHUTDOWN = """
import signal, sys, time
from pathlib import Path

def stop(signum, frame):
    time.sleep(0.5)  # stopping child servers, flushing files...
    Path(sys.argv[1]).write_text("cleaned up")
    sys.exit(0)

signal.signal(signal.SIGINT, stop)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""

RUNNER = """
import sys
sys.path.insert(0, sys.argv[1])
import lessons
try:
    lessons.run_foreground([sys.executable, sys.argv[2], sys.argv[3]], cwd=lessons.ROOT)
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.skipif(os.name != "posix", reason="process groups and SIGINT to a group are POSIX")
def test_ctrl_c_reaches_the_lesson_and_the_runner_waits_for_its_shutdown(tmp_path: Path) -> None:
    child = tmp_path / "lesson.py"
    child.write_text(SLOW_SHUTDOWN)
    marker = tmp_path / "marker"
    # Its own session, so SIGINT to the group is what a terminal's Ctrl-C does to the job.
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(ROOT), str(child), str(marker)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert runner.stdout is not None and runner.stdout.readline().strip() == "ready"
        os.killpg(runner.pid, signal.SIGINT)
        code = runner.wait(timeout=20)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()

    assert marker.read_text() == "cleaned up"  # the lesson finished its own shutdown
    assert code == 130  # and the runner still reports the interrupt


def test_a_killed_child_is_reported_as_the_shell_would(tmp_path: Path) -> None:
    import lessons

    script = tmp_path / "die.py"
    script.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")

    assert lessons.run_foreground([sys.executable, str(script)], cwd=tmp_path) == 128 + 9
