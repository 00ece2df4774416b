"""The HTTP API: 401 with WWW-Authenticate vs 403 for a missing scope, the token endpoint's
answers, and every bad input answered 4xx with the JSON error shape - never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADA, BOB, bearer, login
from tests.tokens_util import claims, sign_raw
from tokens.keyring import KeyRing
from tokens.settings import Settings


def error(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()["error"]
    assert isinstance(body["code"], str) and isinstance(body["message"], str)
    return body


def test_no_token_is_401_with_a_bare_bearer_challenge(client: TestClient) -> None:
    answer = client.get("/items")
    assert error(answer, 401)["reason"] == "missing"
    assert answer.headers["www-authenticate"] == 'Bearer realm="lesson-15"'


def test_missing_scope_is_403_naming_the_scope(client: TestClient) -> None:
    reader = login(client, BOB)["access_token"]
    assert client.get("/items", headers=bearer(reader)).status_code == 200
    answer = client.post("/items", json={"name": "pen"}, headers=bearer(reader))
    assert error(answer, 403)["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]
    assert 'scope="items:write"' in answer.headers["www-authenticate"]


def test_a_narrower_token_than_the_user_may_hold(client: TestClient) -> None:
    narrow = login(client, ADA, scope="items:read")
    assert narrow["scope"] == "items:read"
    assert (
        client.post(
            "/items", json={"name": "x"}, headers=bearer(narrow["access_token"])
        ).status_code
        == 403
    )
    full = login(client)["access_token"]
    created = client.post("/items", json={"name": "pen"}, headers=bearer(full))
    assert created.status_code == 201 and created.json()["owner"] == "ada"


def test_token_response_is_never_cached_and_jwks_is(client: TestClient) -> None:
    form = {"grant_type": "password", "username": ADA[0], "password": ADA[1]}
    answer = client.post("/token", data=form)
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert "max-age" in client.get("/.well-known/jwks.json").headers["cache-control"]


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    wrong = client.post(
        "/token", data={"grant_type": "password", "username": "ada", "password": "x"}
    )
    nobody = client.post(
        "/token", data={"grant_type": "password", "username": "eve", "password": "x"}
    )
    assert error(wrong, 400) == error(nobody, 400)
    assert error(wrong, 400)["code"] == "invalid_grant"


BAD_TOKEN_REQUESTS: list[tuple[dict[str, Any], int, str]] = [
    ({}, 422, "validation_error"),
    ({"data": {"grant_type": "client_credentials"}}, 400, "unsupported_grant_type"),
    ({"data": {"grant_type": "password", "username": "ada"}}, 400, "invalid_request"),
    (
        {
            "data": {
                "grant_type": "password",
                "username": "bob",
                "password": BOB[1],
                "scope": "items:write",
            }
        },
        400,
        "invalid_scope",
    ),
    ({"data": {"grant_type": "refresh_token"}}, 400, "invalid_request"),
    (
        {"data": {"grant_type": "refresh_token", "refresh_token": "x" * 500}},
        422,
        "validation_error",
    ),
    ({"data": {"grant_type": "refresh_token", "refresh_token": "nope"}}, 400, "invalid_grant"),
    (
        {"json": {"grant_type": "password", "username": "ada", "password": "x"}},
        422,
        "validation_error",
    ),
    (
        {
            "content": b"\xff\xfe\x00garbage",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
        422,
        "validation_error",
    ),
]


@pytest.mark.parametrize(("request_kwargs", "status", "code"), BAD_TOKEN_REQUESTS)
def test_bad_token_requests_are_4xx_json(
    client: TestClient, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    assert error(client.post("/token", **request_kwargs), status)["code"] == code


@pytest.fixture
def writer(client: TestClient) -> dict[str, str]:
    return bearer(login(client)["access_token"])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'{"name": ""}',
        b'{"name": 5}',
        b'{"nom": "x"}',
        b'{"name": "' + b"x" * 101 + b'"}',
    ],
)
def test_bad_item_bodies_are_422(client: TestClient, writer: dict[str, str], body: bytes) -> None:
    headers = {**writer, "Content-Type": "application/json"}
    assert (
        error(client.post("/items", content=body, headers=headers), 422)["code"]
        == "validation_error"
    )


def test_oversized_bodies_are_413_declared_or_streamed(
    client: TestClient, writer: dict[str, str]
) -> None:
    big = b'{"name": "' + b"x" * 20_000 + b'"}'
    declared = client.post(
        "/items", content=big, headers={**writer, "Content-Type": "application/json"}
    )
    assert error(declared, 413)["code"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(20):
            yield b"x" * 1024

    streamed = client.post(
        "/token", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert error(streamed, 413)["code"] == "too_large"


def test_unknown_path_and_method_are_json(client: TestClient) -> None:
    assert error(client.get("/nowhere"), 404)["code"] == "not_found"
    assert error(client.delete("/token"), 405)["code"] == "method_not_allowed"


ODD_VALUES: list[Any] = [0, -1, 1e308, "x", "9" * 400, [], {}, True, None]


def test_signed_tokens_with_odd_claim_values_are_never_a_500(
    client: TestClient, settings: Settings
) -> None:
    """Correctly signed by the server's own key, every claim in turn set to an odd value:
    the answer is 200 or a 401 with a reason, never an error of the server."""
    ring = KeyRing(settings.algorithm, settings.key_retire_after_s, settings.key_dir)
    seen = set()
    for name in ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "sid", "ver"):
        for value in ODD_VALUES:
            body = claims(iss=settings.issuer, aud=settings.audience, sid="s", ver=0)
            body[name] = value
            token = sign_raw(ring.current, {k: v for k, v in body.items() if v is not None})
            answer = client.get("/me", headers=bearer(token))
            assert answer.status_code in (200, 401), (name, value, answer.text)
            seen.add(answer.status_code)
    assert seen == {200, 401}
