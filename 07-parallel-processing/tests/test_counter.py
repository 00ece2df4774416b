"""Shared counters under contention: only the synchronised ones are exact."""

from __future__ import annotations

import pytest

from parallel.counter import count


def test_locked_value_is_exact_under_contention() -> None:
    # All four start together (a barrier) and run long enough to overlap on every machine.
    assert count("locked", processes=4, increments=20_000) == 80_000


def test_manager_value_with_its_lock_is_exact() -> None:
    assert count("manager", processes=2, increments=200) == 400


def test_unlocked_value_can_lose_updates_but_never_invents_them() -> None:
    # How many updates are lost depends on scheduling (often none in a run this short, about
    # half in bench.py's longer one), so only what holds on every run is asserted.
    assert 0 < count("unlocked", processes=4, increments=2_500) <= 10_000


def test_an_unknown_kind_is_rejected_before_any_process_starts() -> None:
    with pytest.raises(ValueError, match="unknown counter kind 'atomic'"):
        count("atomic")  # type: ignore[arg-type]
