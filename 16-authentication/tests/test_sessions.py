"""Server-side sessions on every backend: the cookie's flags, rotation at login, the idle and
absolute timeouts, logout and log out all devices."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from auth.sessions import SqlSessionStore, id_hash
from tests.conftest import PEOPLE, Clock, Factory, bearer_for, cookie_login, services

SID = "sid"


def only_cookie(client: TestClient, session_id: str) -> None:
    client.cookies.clear()
    client.cookies.set(SID, session_id, domain="testserver.local")


def test_the_cookie_is_httponly_secure_samesite_lax(client: TestClient) -> None:
    response = client.post("/session", json={"username": "bob", "password": PEOPLE["bob"][0]})
    morsel = SimpleCookie(response.headers["set-cookie"])[SID]
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/" and len(morsel.value) >= 43


def test_cookie_secure_can_be_turned_off_for_plain_http(make_client: Factory) -> None:
    client = make_client(cookie_secure=False)
    response = client.post("/session", json={"username": "bob", "password": PEOPLE["bob"][0]})
    assert "secure" not in response.headers["set-cookie"].lower()


def test_login_issues_a_new_id_and_destroys_the_old_one(client: TestClient) -> None:
    client.get("/")  # a visitor: an anonymous session with the login form's CSRF token
    before = client.cookies[SID]

    cookie_login(client, "bob")

    after = client.cookies[SID]
    assert after != before
    only_cookie(client, before)
    assert client.get("/users/me").status_code == 401  # the pre-login id is gone


def test_the_store_keeps_only_a_hash_of_the_id(client: TestClient) -> None:
    cookie_login(client, "bob")
    sid = client.cookies[SID]
    store = services(client).sessions.store
    # Run the store's coroutines on the app's own event loop (its Redis client lives there).
    assert client.portal.call(store.load, sid) is None  # type: ignore[union-attr]
    assert client.portal.call(store.load, id_hash(sid)) is not None  # type: ignore[union-attr]


def test_idle_timeout_ends_a_quiet_session_and_use_keeps_it_alive(
    client: TestClient, clock: Clock
) -> None:
    idle = services(client).settings.session_idle_s
    cookie_login(client, "bob")
    clock.advance(idle - 5)
    assert client.get("/users/me").status_code == 200  # active: the idle timer restarts
    clock.advance(idle - 5)
    assert client.get("/users/me").status_code == 200
    clock.advance(idle + 1)
    assert client.get("/users/me").status_code == 401


def test_absolute_timeout_ends_even_a_busy_session(
    make_client: Factory,
    backend: dict[str, Any],
    clock: Clock,
) -> None:
    client = make_client(session_idle_s=600, session_absolute_s=1800, **backend)
    settings = services(client).settings
    cookie_login(client, "bob")
    elapsed = 0
    while elapsed + settings.session_idle_s // 2 < settings.session_absolute_s:
        clock.advance(settings.session_idle_s // 2)
        elapsed += settings.session_idle_s // 2
        assert client.get("/users/me").status_code == 200
    clock.advance(settings.session_absolute_s - elapsed)
    assert client.get("/users/me").status_code == 401


def test_purge_sweeps_sessions_nobody_reads_again(make_client: Factory, clock: Clock) -> None:
    """Without Redis there is no TTL: expired rows go when read, or when purge() runs."""
    client = make_client()
    for name in ("bob", "cyd"):
        bearer_for(client, name)
    store = services(client).sessions.store
    assert isinstance(store, SqlSessionStore)
    assert store.purge(clock()) == 0
    clock.advance(store.idle_s + 1)
    assert store.purge(clock()) == 2


def test_logout_ends_the_session_and_clears_the_cookie(client: TestClient) -> None:
    csrf = cookie_login(client, "bob")
    sid = client.cookies[SID]

    response = client.delete("/session", headers={"X-CSRF-Token": csrf})

    assert response.status_code == 204
    assert (
        'sid=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    )
    only_cookie(client, sid)  # replaying the old cookie
    assert client.get("/users/me").status_code == 401


def test_log_out_all_devices_ends_every_session_and_token_of_that_user(
    make_client: Factory,
    backend: dict[str, Any],
) -> None:
    laptop = make_client(**backend)
    phone = make_client(**backend)
    cookie_login(laptop, "bob")
    phone_token = bearer_for(phone, "bob")
    other_user = bearer_for(phone, "ada")

    response = phone.post("/sessions/logout-all", headers=phone_token)

    assert response.status_code == 200 and response.json()["ended"] == 2
    assert laptop.get("/users/me").status_code == 401
    assert phone.get("/users/me", headers=phone_token).status_code == 401
    assert phone.get("/users/me", headers=other_user).status_code == 200


@pytest.mark.redis
def test_redis_forgets_a_session_by_itself(
    make_client: Factory, redis_url: str, redis_prefix: str
) -> None:
    """Each session is a hash with a TTL at its nearest timeout, plus a set per user that
    "log out all devices" reads; nothing is left for a cron job."""
    client = make_client(redis_url=redis_url, redis_prefix=redis_prefix)
    cookie_login(client, "bob")
    with redis.Redis.from_url(redis_url, decode_responses=True) as r:
        keys = sorted(r.scan_iter(match=redis_prefix + "*"))
        session_key = next(k for k in keys if ":session:" in k)
        assert session_key == f"{redis_prefix}session:{id_hash(client.cookies[SID])}"
        assert 0 < r.ttl(session_key) <= services(client).settings.session_idle_s
        assert r.hget(session_key, "kind") == "cookie"
        user_key = next(k for k in keys if ":user-sessions:" in k)
        assert r.smembers(user_key) == {id_hash(client.cookies[SID])}
