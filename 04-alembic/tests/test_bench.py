"""bench.py's arithmetic and wording, without a database: what the table says must be true."""

from __future__ import annotations

import pytest

import bench
from bench import Run, compare_wait, median_run


def test_median_run_is_one_whole_run_not_a_mix_of_columns() -> None:
    # The run with the middle time has neither the middle wait nor the middle write count:
    # per-column medians would report (2.0 s, 30 ms, 300 writes), a run that never happened.
    runs = [
        Run(seconds=3.0, worst_wait_ms=30.0, p99_wait_ms=3.0, writes=100),
        Run(seconds=1.0, worst_wait_ms=20.0, p99_wait_ms=2.0, writes=300),
        Run(seconds=2.0, worst_wait_ms=90.0, p99_wait_ms=9.0, writes=500),
    ]
    assert median_run(runs) is runs[2]


def test_median_of_an_even_count_is_the_lower_middle_run() -> None:
    slow = Run(seconds=2.0, worst_wait_ms=5.0, p99_wait_ms=1.0, writes=10)
    fast = Run(seconds=1.0, worst_wait_ms=50.0, p99_wait_ms=4.0, writes=20)
    assert median_run([slow, fast]) is fast


@pytest.mark.parametrize(
    ("base_ms", "ms", "words"),
    [
        (1744.5, 36.3, "48.1x shorter"),
        (100.0, 100.0, "1.0x shorter"),
        # Quick runs on a small table: a batch can wait longer than the one UPDATE did.
        (40.0, 50.0, "1.2x longer"),
        (10.0, 80.0, "8.0x longer"),
    ],
)
def test_wait_ratio_says_shorter_or_longer(base_ms: float, ms: float, words: str) -> None:
    assert compare_wait(base_ms, ms) == words


def test_report_prints_each_method_s_own_run(capsys: pytest.CaptureFixture[str]) -> None:
    results = {
        "one UPDATE": [Run(2.0, 40.0, 30.0, 34)],
        "batches of 1,000": [Run(3.0, 50.0, 20.0, 491)],
    }
    bench.report(results, repeats=1)
    batches = capsys.readouterr().out.splitlines()[-1]
    assert batches.split() == [
        *("batches", "of", "1,000"),
        *("3.00", "50.0", "20.0", "491"),
        *("1.50x", "1.2x", "longer"),
    ]
