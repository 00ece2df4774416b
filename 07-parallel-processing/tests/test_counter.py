"""Shared counters under contention: only the synchronised ones are exact."""

from __future__ import annotations

import pytest

from parallel.counter import count, lockstep


def test_locked_value_is_exact_under_contention() -> None:
    # All four start together (a barrier) and run long enough to overlap on every machine.
    assert count("locked", processes=4, increments=20_000) == 80_000


def test_manager_value_with_its_lock_is_exact() -> None:
    assert count("manager", processes=2, increments=200) == 400


def test_the_unlocked_read_modify_write_loses_every_overlapping_update() -> None:
    # Barriers force the worst interleaving: each round all 3 processes read the same value,
    # then all 3 write it + 1. Two of every three increments are lost, on every run.
    assert lockstep(processes=3, rounds=200) == 200  # not 600


def test_the_lock_keeps_the_same_simultaneous_rounds_exact() -> None:
    # The same rounds, all processes released together each time, the lock taken around the
    # whole read-add-write: the interleaving that lost updates above cannot happen.
    assert lockstep(processes=3, rounds=200, locked=True) == 600


def test_a_race_needs_two_processes() -> None:
    with pytest.raises(ValueError, match="at least 2 processes"):
        lockstep(processes=1)


def test_an_unknown_kind_is_rejected_before_any_process_starts() -> None:
    with pytest.raises(ValueError, match="unknown counter kind 'atomic'"):
        count("atomic")  # type: ignore[arg-type]
