"""`python main.py demo`: login -> call -> refresh -> key rotation -> reuse detected -> family
revoked -> logout, against the real app on a free port, printing each token decoded.

Every step checks the answer it expects and raises TourError otherwise, so exit 0 means the
whole story happened as told.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from demo.server import ServerThread
from tokens import anatomy
from tokens.app import create_app
from tokens.keyring import KeyRing
from tokens.settings import Settings
from tokens.users import DEMO_PASSWORDS
from tokens.verify import Policy, RemoteKeys, verify

Say = Callable[[str], None]


class TourError(Exception):
    pass


def expect(answer: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if answer.status_code != status:
        raise TourError(f"{what}: expected {status}, got {answer.status_code} {answer.text[:200]}")
    body: dict[str, Any] = answer.json() if answer.content else {}
    return body


def show(say: Say, token: str) -> None:
    parts = anatomy.split(token)
    now = int(time.time())
    c = parts.claims
    say(f"   header  {json.dumps(parts.header)}")
    say(
        f"   claims  sub={c['sub']} scope={c['scope']!r} jti={c['jti'][:8]}.. sid={c['sid'][:8]}.. "
        f"ver={c['ver']} exp=now+{c['exp'] - now}s"
    )
    say(f"   signature {len(parts.signature)} bytes; token {len(token)} characters")


def run_tour(settings: Settings, say: Say = print) -> None:
    ring = KeyRing(settings.algorithm, settings.key_retire_after_s, settings.key_dir)
    with (
        ServerThread(create_app(settings, ring)) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        _tour(settings, ring, server.url, http, say)


def _login(http: httpx.Client, user: str, scope: str = "") -> dict[str, Any]:
    form = {"grant_type": "password", "username": user, "password": DEMO_PASSWORDS[user]}
    if scope:
        form["scope"] = scope
    return expect(http.post("/token", data=form), 200, f"login as {user}")


def _refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/token", data={"grant_type": "refresh_token", "refresh_token": token})


def _tour(settings: Settings, ring: KeyRing, url: str, http: httpx.Client, say: Say) -> None:
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    store = "redis" if settings.redis_url else "memory"
    say(f"0. Auth server + API at {url}: {settings.algorithm} keys, denylist in {store}")
    say(f"   signing kid {ring.current.kid}; JWKS publishes {len(ring.jwks()['keys'])} keys")

    say("1. Login as ada (password grant): an access token (JWT) and a refresh token (opaque)")
    first = _login(http, "ada")
    show(say, first["access_token"])
    say(f"   refresh token {first['refresh_token'][:10]}.. (the server stores only its SHA-256)")

    say("2. Call the API with it")
    items = expect(
        http.post("/items", json={"name": "notebook"}, headers=auth(first["access_token"])),
        201,
        "create an item",
    )
    say(f"   POST /items -> 201 {items['name']!r} owned by {items['owner']}")
    body = expect(http.get("/items"), 401, "no token")
    say(f"   GET /items without a token -> 401 {body['error']['reason']}")
    bob = _login(http, "bob")["access_token"]
    body = expect(http.post("/items", json={"name": "x"}, headers=auth(bob)), 403, "bob writes")
    say(f"   bob (items:read only) POST /items -> 403 {body['error']['code']}")

    say("3. Another service verifies it knowing only the JWKS URL (PyJWKClient, cached)")
    policy = Policy(settings.issuer, settings.audience, settings.leeway_s)
    remote = RemoteKeys(f"{url}/.well-known/jwks.json")
    claims = verify(first["access_token"], remote, policy)
    kid = anatomy.split(first["access_token"]).header["kid"]
    say(f"   verified sub={claims['sub']} with kid {kid}, JWKS fetched once and cached")

    say("4. Refresh: the refresh token is spent and replaced (rotation on every use)")
    second = expect(_refresh(http, first["refresh_token"]), 200, "refresh")
    show(say, second["access_token"])
    say(f"   new refresh token {second['refresh_token'][:10]}.., same family (sid)")

    say("5. Signing-key rotation: the published 'next' key starts signing")
    old_kid = ring.current.kid
    ring.rotate()
    third = expect(_refresh(http, second["refresh_token"]), 200, "refresh after key rotation")
    new_kid = anatomy.split(third["access_token"]).header["kid"]
    verify(third["access_token"], remote, policy)  # the cached JWKS already had it
    verify(second["access_token"], remote, policy)  # and the old key is still published
    say(f"   new tokens signed by {new_kid}; tokens of {old_kid} still verify until they expire")

    say("6. Someone replays the first refresh token (stolen earlier)")
    body = expect(_refresh(http, first["refresh_token"]), 400, "replay")
    say(f"   -> 400 {body['error']['code']}: {body['error']['message']}")
    body = expect(_refresh(http, third["refresh_token"]), 400, "refresh after reuse")
    say(f"   the legitimate latest refresh token -> 400 {body['error']['reason']}: family revoked")

    say("7. Log in again, then log out: the access token dies on the very next request")
    fourth = _login(http, "ada")
    expect(http.get("/me", headers=auth(fourth["access_token"])), 200, "me")
    expect(http.post("/logout", headers=auth(fourth["access_token"])), 204, "logout")
    body = expect(http.get("/me", headers=auth(fourth["access_token"])), 401, "me after logout")
    say(f"   GET /me after logout -> 401 {body['error']['reason']} (jti on the denylist)")
