"""Refresh tokens on SQLite and PostgreSQL: stored as hashes, rotated on every use, a replay
revokes the family - also when two requests race with the same token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import login, make_settings
from tokens.app import create_app
from tokens.db import Base, RefreshToken, make_engine, make_sessions
from tokens.refresh import Grant, RefreshRefused, RefreshStore, token_hash


@pytest.fixture
def store(database_url: str) -> Iterator[RefreshStore]:
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)  # the PostgreSQL database is shared by the session's tests
    yield RefreshStore(make_sessions(engine), ttl_s=3600)
    engine.dispose()
    Base.metadata.drop_all(engine)
    engine.dispose()


def refused(store: RefreshStore, token: str, now: int | None = None) -> str:
    with pytest.raises(RefreshRefused) as exc:
        store.rotate(token, now)
    return exc.value.reason


def test_rotation_hands_out_a_new_token_in_the_same_family(store: RefreshStore) -> None:
    first = store.start("ada", ["items:read"])
    second = store.rotate(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert (second.family_id, second.user_id, second.scopes) == (
        first.family_id,
        "ada",
        ["items:read"],
    )
    third = store.rotate(second.refresh_token)
    assert third.family_id == first.family_id


def test_only_hashes_are_stored(store: RefreshStore) -> None:
    grant = store.start("ada", ["items:read"])
    with store.sessions() as s:
        stored = s.scalars(select(RefreshToken.token_hash)).all()
    assert stored == [token_hash(grant.refresh_token)]
    assert grant.refresh_token not in stored


def test_reuse_revokes_the_whole_family(store: RefreshStore) -> None:
    stolen = store.start("ada", ["items:read"])
    victim = store.rotate(stolen.refresh_token)  # the real client rotates first
    assert refused(store, stolen.refresh_token) == "reused"  # the thief replays
    assert refused(store, victim.refresh_token) == "revoked"  # ... and the victim is out too
    family = store.family(stolen.family_id)
    assert family is not None and family.revoked_reason == "reuse"


def test_unknown_and_expired_tokens(store: RefreshStore) -> None:
    assert refused(store, "not-a-token-we-issued") == "unknown"
    grant = store.start("ada", [], now=1_000_000)
    assert refused(store, grant.refresh_token, now=1_000_000 + 3600) == "expired"


def test_logout_everywhere_ends_every_family_of_one_user_only(store: RefreshStore) -> None:
    phone, laptop = store.start("ada", []), store.start("ada", [])
    other = store.start("bob", [])
    assert store.revoke_user("ada") == 2
    assert refused(store, phone.refresh_token) == "revoked"
    assert refused(store, laptop.refresh_token) == "revoked"
    assert store.rotate(other.refresh_token).user_id == "bob"


def race(store: RefreshStore, token: str) -> list[Grant | RefreshRefused]:
    """Two threads present the same token at the same instant (a barrier releases both)."""
    barrier = threading.Barrier(2)
    results: list[Grant | RefreshRefused] = []

    def attempt() -> None:
        barrier.wait()
        try:
            results.append(store.rotate(token))
        except RefreshRefused as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_refreshes_racing_one_wins_and_the_family_is_revoked(store: RefreshStore) -> None:
    """Without the conditional UPDATE both could read "unused" and both rotate: two live
    tokens from one. With it, exactly one wins; the other is a replay and ends the family."""
    for _ in range(8):
        grant = store.start("ada", ["items:read"])
        results = race(store, grant.refresh_token)
        wins = [r for r in results if isinstance(r, Grant)]
        losses = [r for r in results if isinstance(r, RefreshRefused)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert losses[0].reason == "reused"
        assert refused(store, wins[0].refresh_token) == "revoked"


@pytest.mark.postgres
def test_the_api_on_postgresql_rotates_and_detects_reuse(
    postgres_database: str, tmp_path: Path
) -> None:
    """The whole HTTP flow with DATABASE_URL pointing at PostgreSQL, as in production."""
    engine = make_engine(postgres_database)
    Base.metadata.drop_all(engine)
    try:
        with TestClient(create_app(make_settings(tmp_path, database_url=postgres_database))) as c:
            first = login(c)
            form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
            assert c.post("/token", data=form).status_code == 200
            replay = c.post("/token", data=form)
            assert replay.status_code == 400 and replay.json()["error"]["reason"] == "reused"
        with engine.connect() as conn:
            hashes = conn.execute(select(RefreshToken.token_hash)).scalars().all()
        assert len(hashes) == 2 and token_hash(first["refresh_token"]) in hashes
    finally:
        engine.dispose()
        Base.metadata.drop_all(engine)
        engine.dispose()
