"""The text timeline puts each request where it happened on a shared time axis."""

from __future__ import annotations

from asyncio_patterns.fetch import Timing
from tools.timeline import render


def bar_of(line: str) -> str:
    return line.split("|")[1]


def test_sequential_requests_draw_a_staircase() -> None:
    timings = [Timing(i, i * 0.1, (i + 1) * 0.1, 200) for i in range(4)]

    lines = render(timings, width=40)

    starts = [bar_of(line).index("#") for line in lines]
    assert starts == sorted(starts) and len(set(starts)) == 4
    assert all(len(bar_of(line)) == 40 for line in lines)
    assert lines[0].strip().startswith("0 |") and lines[0].endswith("100.0 ms")


def test_a_shared_span_keeps_two_runs_comparable() -> None:
    fast = [Timing(i, 0.0, 0.1, 200) for i in range(3)]

    lines = render(fast, width=40, span=0.4)

    # 0.1 s out of a 0.4 s axis is a quarter of the width.
    assert {bar_of(line).count("#") for line in lines} == {10}


def test_nothing_to_draw() -> None:
    assert render([]) == []
