"""Shared fixtures. This lesson needs no external service: only this machine's cores.

Every test is checked for leftovers: no child process may outlive it and no shared-memory
segment of this lesson may remain in /dev/shm. A leak therefore fails the test that caused it.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LESSON = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(LESSON))  # `import parallel` from any working directory

from parallel.corpus import write_corpus  # noqa: E402
from parallel.shm import leaked_segments  # noqa: E402


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    """Poll `condition()` every 20 ms until it is true or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return bool(condition())  # type: ignore[operator]


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
