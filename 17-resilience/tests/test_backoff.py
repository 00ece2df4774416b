"""Every strategy's delay stays within its formula's bounds, over many random draws."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resilience.backoff import Backoff

bases = st.floats(min_value=0.001, max_value=1.0)
caps = st.floats(min_value=1.0, max_value=60.0)
attempts = st.integers(min_value=1, max_value=200)
seeds = st.integers(min_value=0, max_value=2**32)


@settings(max_examples=200, deadline=None)
@given(base=bases, cap=caps, attempt=attempts, seed=seeds)
def test_jittered_delays_stay_within_their_bounds(
    base: float, cap: float, attempt: int, seed: int
) -> None:
    rng = random.Random(seed)
    t = min(cap, base * 2**attempt)
    previous = rng.uniform(base, cap)
    for _ in range(20):  # several draws per example: thousands in all
        assert Backoff("none", base, cap).delay(attempt, previous, rng) == 0
        assert Backoff("exponential", base, cap).delay(attempt, previous, rng) == t
        assert 0 <= Backoff("full", base, cap).delay(attempt, previous, rng) <= t
        assert t / 2 <= Backoff("equal", base, cap).delay(attempt, previous, rng) <= t
        d = Backoff("decorrelated", base, cap).delay(attempt, previous, rng)
        assert base <= d <= min(cap, previous * 3)


@settings(max_examples=50, deadline=None)
@given(base=bases, cap=caps, seed=seeds)
def test_decorrelated_chain_never_leaves_base_and_cap(base: float, cap: float, seed: int) -> None:
    rng, backoff, previous = random.Random(seed), Backoff("decorrelated", base, cap), base
    for attempt in range(1, 60):
        previous = backoff.delay(attempt, previous, rng)
        assert base <= previous <= cap


def test_full_jitter_actually_spreads_the_delays() -> None:
    """Bounds alone would pass for a constant: the draws must cover the range."""
    rng, backoff = random.Random(1), Backoff("full", 0.1, 10.0)
    draws = [backoff.delay(3, 0.1, rng) for _ in range(2000)]  # range [0, 0.8]
    assert min(draws) < 0.08 and max(draws) > 0.72
    assert 0.35 < sum(draws) / len(draws) < 0.45  # uniform: mean 0.4


def test_a_huge_attempt_number_is_the_cap_not_an_overflow() -> None:
    assert Backoff("exponential", 0.1, 5.0).delay(10_000, 0.1, random.Random()) == 5.0


@pytest.mark.parametrize(
    ("strategy", "base", "cap", "message"),
    [
        ("linear", 0.1, 1.0, "unknown backoff"),
        ("full", 0, 1.0, "base_s"),
        ("full", 2.0, 1.0, "base_s"),
    ],  # fmt: skip
)
def test_bad_backoff_settings_are_refused(
    strategy: str, base: float, cap: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(strategy, base, cap)
