"""Amdahl's law: with a parallel fraction p, n workers give at most 1 / ((1 - p) + p / n).

Fitting p to measured speedups turns a table of timings into one number that says how much of
the job is still serial (start-up, pickling, the merge, the parent's own loop) and so what the
speedup could reach with unlimited cores: 1 / (1 - p). That ceiling is an extrapolation: at
1 worker the model gives 1x whatever p is, so on a 2-core machine p rests on the one speedup
measured at 2 workers, and a small error in it moves the ceiling a lot.
"""

from __future__ import annotations

from collections.abc import Mapping


def predicted(p: float, n: int) -> float:
    return 1.0 / ((1.0 - p) + p / n)


def fit(speedups: Mapping[int, float]) -> float:
    """Least-squares p in [0, 1] for {workers: speedup}; only workers <= cores belong here.

    A grid search over 1001 values is exact enough and has no dependency or edge cases.
    """
    if not speedups:
        raise ValueError("no measurements to fit")
    best_p, best_err = 0.0, float("inf")
    for step in range(1001):
        p = step / 1000
        err = sum((predicted(p, n) - s) ** 2 for n, s in speedups.items())
        if err < best_err:
            best_p, best_err = p, err
    return best_p


def ceiling(p: float) -> float:
    """Speedup with infinitely many workers."""
    return float("inf") if p >= 1.0 else 1.0 / (1.0 - p)


def amdahl_note(p: float, cores: int) -> str:
    """The fit, and how much it rests on: a ceiling fitted to one point is a guess, say so."""
    # At 1 worker the model gives 1x whatever p is, so only 2..cores workers say anything about p.
    points = cores - 1
    if points < 1:
        return "Amdahl fit: not possible on 1 core (no speedup to fit)"
    count = "1 point" if points == 1 else f"{points} points"
    which = f"{cores} workers" if points == 1 else f"2..{cores} workers"
    top = ceiling(p)
    bound = "unbounded" if top > 1000 else f"{top:.1f}x"
    return (
        f"Amdahl fit: parallel fraction p = {p:.3f}, fitted to {count} (the speedup at {which})\n"
        f"  ceiling it implies for unlimited cores: {bound} - extrapolated from {count} far "
        f"past {cores} cores: indicative only, not a measurement"
    )
