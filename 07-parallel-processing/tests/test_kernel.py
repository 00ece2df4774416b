"""The CPU kernel: right answers, and the same answer on every start method."""

from __future__ import annotations

import pytest

from parallel.executors import run_map
from parallel.kernel import count_primes, split
from parallel.runtime import START_METHODS, mp_context

# Prime-counting function values, pi(x), from number theory tables.
PI = {100: 25, 10_000: 1229, 50_000: 5133}


@pytest.mark.parametrize("limit", sorted(PI))
def test_count_primes_matches_known_values(limit: int) -> None:
    assert count_primes((0, limit)) == PI[limit]


def test_split_covers_the_range_exactly_once() -> None:
    parts = split(1003, 7)
    assert parts[0][0] == 0 and parts[-1][1] == 1003
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    assert max(h - lo for lo, h in parts) - min(h - lo for lo, h in parts) <= 1


def test_split_drops_empty_parts_and_rejects_zero() -> None:
    assert split(3, 5) == [(0, 1), (1, 2), (2, 3)]
    with pytest.raises(ValueError, match="parts must be >= 1"):
        split(10, 0)


@pytest.mark.parametrize("method", START_METHODS)
def test_processes_agree_with_serial_on_every_start_method(method: str) -> None:
    tasks = split(50_000, 8)
    total = sum(run_map(count_primes, tasks, workers=2, context=mp_context(method)))
    assert total == PI[50_000]


def test_threads_agree_with_serial() -> None:
    assert sum(run_map(count_primes, split(50_000, 8), strategy="threads", workers=4)) == 5133
