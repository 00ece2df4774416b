"""A NumPy array shared between processes: one array, no copies, no leaked segment."""

from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pytest
from conftest import (
    LESSON,
    open_when_read,
    process_group,
    serve,
    sigint_pending,
    wait_until,
)

from parallel.kernel import split
from parallel.runtime import mp_context
from parallel.shm import (
    ArraySpec,
    attach_worker,
    leaked_segments,
    negate_slice,
    shared_array,
    slice_sum,
    snapshot,
    whole_sum_pickled,
    whole_sum_shared,
)


def _pool(spec: ArraySpec, workers: int = 2) -> ProcessPoolExecutor:
    """Workers that attach to the segment once, in the initializer, not once per task."""
    return ProcessPoolExecutor(
        workers, mp_context=mp_context(), initializer=attach_worker, initargs=(spec,)
    )


def test_workers_sum_slices_of_the_shared_array() -> None:
    data = np.arange(100_000, dtype=np.float64)  # integers: float sums are exact here
    with shared_array(data) as spec, _pool(spec) as pool:
        total = sum(pool.map(slice_sum, split(len(data), 8)))
    assert total == float(data.sum())


def test_writes_in_workers_are_seen_by_the_parent() -> None:
    data = np.arange(1, 1001, dtype=np.int64)
    with shared_array(data) as spec:
        with _pool(spec) as pool:
            rows = sum(pool.map(negate_slice, split(len(data), 4)))
        after = snapshot(spec)
    assert rows == 1000
    np.testing.assert_array_equal(after, -data)


def test_shared_and_pickled_paths_agree() -> None:
    data = np.linspace(0, 1, 10_000)
    with shared_array(data) as spec, ProcessPoolExecutor(1, mp_context=mp_context()) as pool:
        shared = pool.submit(whole_sum_shared, spec).result()
        pickled = pool.submit(whole_sum_pickled, data).result()
    assert shared == pickled == pytest.approx(float(data.sum()))


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_segment_is_unlinked_even_when_the_block_raises(error: type[BaseException]) -> None:
    with pytest.raises(error), shared_array(np.zeros(10)) as spec:
        assert spec.name in leaked_segments()  # it exists while in use...
        raise error("boom")  # a failure, or Ctrl-C arriving in the parent
    assert spec.name not in leaked_segments()  # ...and is gone afterwards


# A program that shares an array with a pool, built from the lesson's own pieces: the segment
# from shared_array, workers attached by attach_worker, tasks that read slices. One task first
# reads a FIFO - a stalled input - so it is still running, attached, when Ctrl-C arrives.
SCRIPT = """
import sys
sys.path.insert(0, {lesson!r})
from concurrent.futures import ProcessPoolExecutor
import numpy as np
from parallel.runtime import mp_context, sigint_blocked
from parallel.shm import attach_worker, shared_array, slice_sum

def stalled_sum(bounds):
    with open({fifo!r}, "rb") as stalled:
        stalled.read()
    return slice_sum(bounds)

def main():
    with shared_array(np.arange(1000, dtype=np.float64)) as spec:
        print(spec.name, flush=True)
        pool = ProcessPoolExecutor(
            2, mp_context=mp_context(), initializer=attach_worker, initargs=(spec,)
        )
        with pool:
            with sigint_blocked():  # workers start during these submits
                futures = [pool.submit(stalled_sum, (0, 500)), pool.submit(slice_sum, (500, 1000))]
            print(sum(f.result() for f in futures))

if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/shm and /proc")
def test_ctrl_c_while_workers_are_attached_leaves_no_segment_and_no_process(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "stalled"
    os.mkfifo(fifo)
    script = tmp_path / "share.py"
    script.write_text(SCRIPT.format(lesson=str(LESSON), fifo=str(fifo)), encoding="utf-8")
    with process_group([sys.executable, str(script)], cwd=tmp_path) as proc:
        assert proc.stdout is not None
        name = proc.stdout.readline().strip()
        # Given a segment in use and a worker attached to it, inside a task
        held = open_when_read(fifo)
        assert name in leaked_segments()
        family = psutil.Process(proc.pid).children(recursive=True)
        # When Ctrl-C reaches the whole process group
        os.killpg(proc.pid, signal.SIGINT)
        assert wait_until(lambda: not sigint_pending(proc.pid), 20)
        serve(held, b"")  # the running task may finish; the program then unwinds
        out, err = proc.communicate(timeout=60)
    # Then it stops with one line, the segment is unlinked and no worker or server survives
    assert proc.returncode == 130, f"stdout={out!r} stderr={err!r}"
    assert err == "interrupted\n"  # no traceback, no resource-tracker leak warning
    assert name.startswith("lesson07_") and name not in leaked_segments()
    assert wait_until(lambda: not any(p.is_running() for p in family), 10), family
