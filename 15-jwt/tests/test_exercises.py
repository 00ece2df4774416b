"""Tests for the README's exercises. Deselected by default; run with `pytest -m exercise`.
They fail until the exercise is done - that is the point."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tokens.db import make_engine, make_sessions
from tokens.keyring import KeyRing
from tokens.refresh import RefreshRefused, RefreshStore

pytestmark = pytest.mark.exercise


def test_exercise_1_a_second_use_within_the_grace_period_is_not_a_replay(tmp_path: Path) -> None:
    sessions = make_sessions(make_engine(f"sqlite:///{tmp_path / 'grace.db'}"))
    store = RefreshStore(sessions, ttl_s=3600, grace_s=2)  # type: ignore[call-arg]
    first = store.start("ada", ["items:read"], now=1_000_000)
    tab_a = store.rotate(first.refresh_token, now=1_000_010)
    tab_b = store.rotate(first.refresh_token, now=1_000_011)  # one second later: the other tab
    assert tab_b.family_id == tab_a.family_id
    assert store.rotate(tab_a.refresh_token, now=1_000_012).user_id == "ada"  # family still live
    with pytest.raises(RefreshRefused) as late:
        store.rotate(first.refresh_token, now=1_000_020)  # long after: a replay after all
    assert late.value.reason == "reused"


def test_exercise_2_a_next_key_is_promoted_only_once_verifiers_can_have_it() -> None:
    ring = KeyRing("ES256", 330, min_publish_s=300)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        ring.rotate()  # the next key was published a moment ago: caches do not have it yet
    ring.rotate(now=time.time() + 301)
    leaked = ring.current.kid
    ring.retire(leaked)  # type: ignore[attr-defined]
    assert leaked not in {k["kid"] for k in ring.jwks()["keys"]}
