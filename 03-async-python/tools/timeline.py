"""Draw request timings as text bars, one row per request, so overlap is visible at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from asyncio_patterns.fetch import Timing


def render(timings: Sequence[Timing], width: int = 60, span: float | None = None) -> list[str]:
    """One line per request: its index, a bar over [start, end] and its duration in ms.

    `span` fixes the time axis (seconds) so that two runs drawn with the same span compare
    by eye: the sequential staircase next to the bounded blocks.
    """
    if not timings:
        return []
    total = span or max(t.end for t in timings) or 1e-9
    scale = width / total
    lines = []
    for t in sorted(timings, key=lambda t: t.index):
        left = min(width - 1, int(t.start * scale))
        right = max(left + 1, min(width, round(t.end * scale)))
        bar = " " * left + "#" * (right - left)
        lines.append(f"{t.index:>4} |{bar:<{width}}| {t.duration * 1000:7.1f} ms")
    return lines
