"""Shared fixtures. This lesson needs no external service: only this machine's cores.

Every test is checked for leftovers: no child process may outlive it and no shared-memory
segment of this lesson may remain in /dev/shm. A leak therefore fails the test that caused it.
"""

from __future__ import annotations

import contextlib
import errno
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

LESSON = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(LESSON))  # `import parallel` from any working directory

from parallel.shm import leaked_segments  # noqa: E402
from tools.corpus import write_corpus  # noqa: E402


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    """Poll `condition()` every 20 ms until it is true or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return bool(condition())  # type: ignore[operator]


# A FIFO stands in for a stalled input (a network disk that stops answering): whoever reads
# it waits until the test writes it, so a run can be interrupted mid-way on any machine.
def open_when_read(fifo: Path, timeout: float = 60) -> int:
    """Wait until some process opens `fifo` to read it; return the write end."""
    fd: list[int] = []

    def reader_there() -> bool:
        try:
            fd.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading yet
                raise
        return bool(fd)

    assert wait_until(reader_there, timeout), f"nobody read {fifo.name}"
    return fd[0]


def serve(fd: int, data: bytes) -> None:
    """Write the whole shard and close: the reader gets it all, then end of file."""
    os.set_blocking(fd, True)
    # A Pool stops its workers on Ctrl-C with terminate(): the reader may be gone already.
    with contextlib.suppress(BrokenPipeError), os.fdopen(fd, "wb") as pipe:
        pipe.write(data)


def sigint_pending(pid: int) -> bool:
    """True while a SIGINT sent to `pid` has not yet been taken by any of its threads."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("ShdPnd:"):  # signals pending for the process as a whole
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


@contextlib.contextmanager
def process_group(
    args: Sequence[str], cwd: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """Run `args` as a shell job would: its own process group, output read through pipes.

    Whatever happens in the block, nothing outlives it: if the program is still running when
    the block ends (a failed test), the whole group is killed - killing the program alone
    would leave its workers and fork server running after the test."""
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    before = set(leaked_segments())
    yield
    # active_children() also reaps finished children; a pool's workers may take a moment.
    stopped = wait_until(lambda: not mp.active_children(), 10)
    left = mp.active_children()
    for child in left:  # fail the test, but do not let its leak outlive it
        child.kill()
        child.join(5)
    leaked = sorted(set(leaked_segments()) - before)
    for name in leaked:
        Path("/dev/shm", name).unlink(missing_ok=True)
    assert stopped, f"child processes left running: {left}"
    assert not leaked, f"shared-memory segments not unlinked: {leaked}"


@pytest.fixture(scope="session")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A small corpus: 24 shards of 16 KB, enough to spread over workers in well under a second."""
    return write_corpus(tmp_path_factory.mktemp("corpus"), size_mb=24 * 16 / 1024, shard_kb=16)
