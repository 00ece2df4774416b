"""Tests for the README's exercises. Deselected by default; run with: pytest -m exercise"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from parallel.counter import count
from parallel.executors import run_map
from parallel.kernel import count_primes, split

pytestmark = pytest.mark.exercise


def test_exercise_1_batched_counter_is_exact() -> None:
    # Each process adds up its increments locally and takes the lock once.
    assert count("batched", processes=4, increments=25_000) == 100_000  # type: ignore[arg-type]


def test_exercise_2_run_map_keeps_a_bounded_number_of_tasks_in_flight() -> None:
    consumed, finished, worst = 0, 0, 0
    lock = threading.Lock()

    def tasks() -> Iterator[tuple[int, int]]:
        nonlocal consumed, worst
        for t in split(200_000, 2_000):
            with lock:
                consumed += 1
                worst = max(worst, consumed - finished)
            yield t

    def done() -> None:
        nonlocal finished
        with lock:
            finished += 1

    # Until the exercise is done, run_map takes neither an iterator nor max_in_flight.
    results = run_map(  # type: ignore[call-arg]
        count_primes,
        tasks(),  # type: ignore[arg-type]
        workers=2,
        max_in_flight=8,
        on_result=done,
    )
    assert sum(results) == 17_984  # pi(200 000)
    assert worst <= 8 + 1


def test_exercise_3_balanced_split_gives_narrower_ranges_where_numbers_cost_more() -> None:
    from parallel.kernel import split_balanced  # type: ignore[attr-defined]

    parts = split_balanced(1_000_000, 8)
    assert parts[0][0] == 0 and parts[-1][1] == 1_000_000
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    widths = [hi - lo for lo, hi in parts]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]
