"""A NumPy array shared between processes: one array, no copies, no leaked segment."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

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
