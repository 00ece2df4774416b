"""Start and stop Celery processes (worker, beat, Flower) as children, for the demo, tests, bench.

A child is in its own process group so a Ctrl-C in the terminal reaches us, not it: we decide
how it stops (a warm shutdown first, a kill if it hangs), and it is stopped on every exit path.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

LESSON = Path(__file__).resolve().parents[1]


class ChildProcess:
    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.args = args
        self.name = args[0]  # a worker's node name, set by start_worker
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._asked = False
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "uploads.worker", *args],
            cwd=LESSON, env={**os.environ, "PYTHONPATH": str(LESSON), **env},
            stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, ready: Callable[[], bool] | str, timeout: float = 60.0) -> None:
        """Until ready() is true (or the text appears in the log); fail if the child exits."""
        check = (lambda: ready in self.output()) if isinstance(ready, str) else ready
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery {self.args[0]} exited: {self.output()[-2000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"celery {self.args[0]} not ready in {timeout} s: "
                           f"{self.output()[-2000:]}")  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when the machine or the OOM killer takes it."""
        self.proc.kill()
        self.proc.wait()

    def terminate(self) -> None:
        """Ask for a warm shutdown without waiting for it (stop() waits)."""
        if self.proc.poll() is None and not self._asked:
            # To the main process only: it stops its own pool; a signal to the whole group
            # would hit the pool processes mid-task too.
            self.proc.send_signal(signal.SIGTERM)
            self._asked = True

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown (SIGTERM: finish the running task, take no new one), then SIGKILL."""
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._out.close()


def start_worker(name: str, queues: list[str], env: Mapping[str, str], log: Path,
                 pool: str = "solo", concurrency: int = 1, prefetch: int | None = None,
                 extra: tuple[str, ...] = ()) -> ChildProcess:  # fmt: skip
    """A worker consuming `queues`, named name@host; wait_for(READY) before sending to it."""
    args = [
        "worker", "-Q", ",".join(queues), "-n", f"{name}@{socket.gethostname()}", "--pool", pool,
        "--concurrency", str(concurrency), "-O", "fair", "--without-gossip",
        "--without-mingle", "-l", "INFO", *extra,
    ]  # fmt: skip
    if prefetch is not None:
        args += ["--prefetch-multiplier", str(prefetch)]
    child = ChildProcess(args, env, log)
    child.name = f"{name}@{socket.gethostname()}"
    return child


def stop_all(children: list[ChildProcess]) -> None:
    """Shut several down side by side: each takes seconds, and they do not wait on each other."""
    for child in children:
        child.terminate()
    for child in children:
        child.stop()


READY = " ready."
