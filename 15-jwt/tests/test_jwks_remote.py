"""A separate verifier that knows only the JWKS URL: PyJWKClient with its cache, against the
auth server on a real port, through rotation, a flood of unknown kids and an outage."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from demo.server import ServerThread
from tests.conftest import bearer, login, make_settings
from tests.tokens_util import claims, sign
from tokens.app import create_app
from tokens.issue import Issuer
from tokens.keyring import KeyRing
from tokens.settings import Settings
from tokens.verify import KeysUnavailable, Policy, RemoteKeys, TokenRefused, verify


class CountingJwks:
    """Counts requests for the JWKS document that reach the auth server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.hits = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/.well-known/jwks.json":
            self.hits += 1
        await self.app(scope, receive, send)


class Auth:
    def __init__(self, settings: Settings, ring: KeyRing, app: CountingJwks, url: str) -> None:
        self.settings, self.ring, self.app, self.url = settings, ring, app, url
        self.issuer = Issuer(ring, settings.issuer, settings.audience, settings.access_ttl_s)
        self.policy = Policy(settings.issuer, settings.audience)
        self.jwks_url = f"{url}/.well-known/jwks.json"

    def token(self) -> str:
        return self.issuer.access_token("ada", ["items:read"], "s", 0)[0]


@pytest.fixture
def auth(tmp_path: Path, serve: Callable[[Any], ServerThread]) -> Auth:
    settings = make_settings(tmp_path)
    ring = KeyRing(settings.algorithm, settings.key_retire_after_s)
    app = CountingJwks(create_app(settings, ring))
    return Auth(settings, ring, app, serve(app).url)


def test_cached_jwks_is_fetched_once_for_many_verifications(auth: Auth) -> None:
    keys = RemoteKeys(auth.jwks_url)
    for _ in range(20):
        assert verify(auth.token(), keys, auth.policy)["sub"] == "ada"
    assert auth.app.hits == 1


def test_rotation_needs_no_refetch_because_the_next_key_was_published(auth: Auth) -> None:
    keys = RemoteKeys(auth.jwks_url)
    before = auth.token()
    verify(before, keys, auth.policy)
    auth.ring.rotate()
    after = auth.token()
    assert verify(after, keys, auth.policy)["sub"] == "ada"  # signed by the new key
    assert verify(before, keys, auth.policy)["sub"] == "ada"  # old key still published
    assert auth.app.hits == 1


def test_unknown_kids_cost_at_most_one_refetch_per_cooldown(auth: Auth) -> None:
    keys = RemoteKeys(auth.jwks_url, cooldown_s=30)
    verify(auth.token(), keys, auth.policy)
    stranger = KeyRing(auth.settings.algorithm, 60).current
    for _ in range(25):
        forged = sign(stranger, claims(), kid=secrets.token_hex(8))
        with pytest.raises(TokenRefused) as refused:
            verify(forged, keys, auth.policy)
        assert refused.value.reason == "unknown_kid"
    assert auth.app.hits <= 2


def test_a_key_the_verifier_never_saw_is_fetched_when_the_cooldown_allows(auth: Auth) -> None:
    """Two rotations in a row (an emergency): the new key was never in a fetched JWKS."""
    keys = RemoteKeys(auth.jwks_url, cooldown_s=0)
    verify(auth.token(), keys, auth.policy)
    auth.ring.rotate()
    auth.ring.rotate()
    assert verify(auth.token(), keys, auth.policy)["sub"] == "ada"
    assert auth.app.hits == 2


def test_jwks_unreachable_is_an_outage_not_a_bad_token(auth: Auth) -> None:
    keys = RemoteKeys("http://127.0.0.1:1/.well-known/jwks.json")
    with pytest.raises(KeysUnavailable):
        verify(auth.token(), keys, auth.policy)


def test_the_api_verifies_through_the_jwks_url(auth: Auth, tmp_path: Path) -> None:
    """A second service configured with JWT_JWKS_URL accepts the auth server's tokens, and
    answers 503 (not 401) when the JWKS cannot be fetched."""
    api = make_settings(tmp_path / "api", jwks_url=auth.jwks_url)
    dead = make_settings(tmp_path / "dead", jwks_url="http://127.0.0.1:1/.well-known/jwks.json")
    with httpx.Client(base_url=auth.url) as auth_client:
        token = login(auth_client)["access_token"]
    with TestClient(create_app(api)) as client:
        answer = client.get("/me", headers=bearer(token))
        assert answer.status_code == 200 and answer.json()["sub"] == "ada"
        assert client.get("/me", headers=bearer(token + "x")).status_code == 401
    with TestClient(create_app(dead)) as client:
        down = client.get("/me", headers=bearer(token))
    assert down.status_code == 503 and down.json()["error"]["code"] == "keys_unavailable"


class RawServer:
    """A JWKS endpoint that misbehaves below HTTP's level: it sends ``head``, then ``body``
    in pieces of ``piece`` bytes every ``every_s`` seconds, until stopped."""

    def __init__(self, head: bytes, body: bytes, piece: int, every_s: float) -> None:
        import socket
        import threading

        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/.well-known/jwks.json"
        self.head, self.body, self.piece, self.every_s = head, body, piece, every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.server.close()

    def _serve(self) -> None:
        self.server.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(4096)
                try:
                    conn.sendall(self.head)
                    for at in range(0, len(self.body), self.piece):
                        if self.stop.wait(self.every_s):
                            break
                        conn.sendall(self.body[at : at + self.piece])
                except OSError:
                    continue  # the client gave up: what the test wants


def test_a_jwks_dripped_slower_than_the_deadline_is_an_outage(auth: Auth) -> None:
    """Each byte comes quickly, the whole document would take 20 s: the fetch has a deadline
    (urllib's timeout alone is per read, and would wait for all of it)."""
    body = json.dumps(auth.ring.jwks()).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    with RawServer(head, body, piece=max(1, len(body) // 400), every_s=0.05) as drip:
        keys = RemoteKeys(drip.url, timeout_s=0.5)
        with pytest.raises(KeysUnavailable, match="within 0.5 s"):
            verify(auth.token(), keys, auth.policy)


def test_an_oversized_jwks_is_an_outage_not_parsed(auth: Auth) -> None:
    """A JWK Set padded to 4 MiB (valid JSON all the same) is refused before it is parsed."""
    body = json.dumps(auth.ring.jwks()).encode() + b" " * (4 << 20)
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"  # no length: read to the end
    with (
        RawServer(head, body, piece=1 << 16, every_s=0) as big,
        pytest.raises(KeysUnavailable, match="over 262144 bytes"),
    ):
        verify(auth.token(), RemoteKeys(big.url), auth.policy)
