"""Revocation: the jti denylist with TTL = remaining life + leeway, token versions for "log
out everywhere", in memory and on real Redis; it takes effect on the very next request."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from tests.conftest import ADA, BOB, bearer, login, make_settings
from tokens.app import create_app
from tokens.keyring import KeyRing
from tokens.revocation import MemoryRevocations, RedisRevocations, Revocations

LEEWAY = 30


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def revocations(request: pytest.FixtureRequest) -> AsyncIterator[Revocations]:
    if request.param == "memory":
        yield MemoryRevocations(LEEWAY)
        return
    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    store = RedisRevocations(url, prefix, LEEWAY)
    yield store
    await store.aclose()


async def test_a_revoked_jti_is_denied_and_others_are_not(revocations: Revocations) -> None:
    await revocations.revoke("j-1", time.time() + 300)
    assert await revocations.check("j-1", "ada") == (True, 0)
    assert await revocations.check("j-2", "ada") == (False, 0)


async def test_an_expired_token_is_not_remembered(revocations: Revocations) -> None:
    await revocations.revoke("old", time.time() - LEEWAY - 5)
    assert await revocations.check("old", "ada") == (False, 0)


async def test_token_version_counts_logouts_everywhere(revocations: Revocations) -> None:
    assert await revocations.version("ada") == 0
    assert await revocations.bump_version("ada") == 1
    assert await revocations.bump_version("ada") == 2
    assert (await revocations.check("any", "ada"))[1] == 2
    assert await revocations.version("bob") == 0


@pytest.mark.redis
async def test_redis_entry_lives_exactly_as_long_as_the_token_could_verify(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisRevocations(redis_url, redis_prefix, LEEWAY)
    try:
        await store.revoke("j-ttl", time.time() + 100)
    finally:
        await store.aclose()
    with redis.Redis.from_url(redis_url) as client:
        ttl = client.ttl(f"{redis_prefix}deny:j-ttl")
    assert 100 + LEEWAY - 3 <= ttl <= 100 + LEEWAY + 1


@pytest.mark.redis
def test_logout_on_one_instance_is_seen_by_another(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """Two API instances share the key ring and Redis: a logout through A is refused by B
    on the next request. (With the memory store, B would still accept it.)"""
    settings = make_settings(tmp_path, redis_url=redis_url, revocation_prefix=redis_prefix)
    ring = KeyRing(settings.algorithm, settings.key_retire_after_s)
    with TestClient(create_app(settings, ring)) as a, TestClient(create_app(settings, ring)) as b:
        token = login(a)["access_token"]
        assert b.get("/me", headers=bearer(token)).status_code == 200
        assert a.post("/logout", headers=bearer(token)).status_code == 204
        refused = b.get("/me", headers=bearer(token))
        assert refused.status_code == 401 and refused.json()["error"]["reason"] == "revoked"


def test_logout_takes_effect_on_the_next_request(client: TestClient) -> None:
    tokens = login(client)
    assert client.get("/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert client.post("/logout", headers=bearer(tokens["access_token"])).status_code == 204
    after = client.get("/me", headers=bearer(tokens["access_token"]))
    assert after.status_code == 401 and after.json()["error"]["reason"] == "revoked"
    again = client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 400 and again.json()["error"]["reason"] == "revoked"


def test_logout_everywhere_ends_every_session_of_the_user_only(client: TestClient) -> None:
    phone, laptop, bob = login(client), login(client), login(client, BOB)
    assert (
        client.post("/logout-everywhere", headers=bearer(phone["access_token"])).status_code == 204
    )
    for session in (phone, laptop):
        assert client.get("/me", headers=bearer(session["access_token"])).status_code == 401
        form = {"grant_type": "refresh_token", "refresh_token": session["refresh_token"]}
        assert client.post("/token", data=form).status_code == 400
    assert client.get("/me", headers=bearer(bob["access_token"])).status_code == 200
    fresh = login(client)  # a new login carries the new version and works
    assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_revocation_store_down_fails_closed(tmp_path: Path) -> None:
    """No Redis answer: 503, never a pass - a logged-out token must not slip through."""
    up = make_settings(tmp_path)
    down = make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")
    ring = KeyRing(up.algorithm, up.key_retire_after_s)
    with TestClient(create_app(up, ring)) as healthy, TestClient(create_app(down, ring)) as cut:
        token = login(healthy)["access_token"]
        answer = cut.get("/me", headers=bearer(token))
        no_login = cut.post(
            "/token", data={"grant_type": "password", "username": ADA[0], "password": ADA[1]}
        )
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "revocation_unavailable"
    assert no_login.status_code == 503  # no token is issued without the current version
