"""Every bad request gets a 4xx with the JSON error shape - never a 500, never a hang - and a
body over the cap is a 413 before anything parses it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Factory, bearer_for

CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "POST",
        "/session",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    ),
    ("POST", "/session", {"json": {"username": "bob"}}),
    ("POST", "/session", {"json": {"username": "x" * 65, "password": "p"}}),
    ("POST", "/session", {"json": {"username": "bob", "password": "p" * 5000}}),
    ("POST", "/session", {"json": ["a", "list"]}),
    ("POST", "/session", {"json": {"username": "bob", "password": "p", "otp": "1" * 40}}),
    ("POST", "/session", {"json": {"username": "bob", "password": "p" * 2000}}),
    ("POST", "/session", {"json": {"username": "b\x00b", "password": "p"}}),
    ("POST", "/token", {"data": {}}),
    ("POST", "/token", {"data": {"grant_type": "password", "username": "bob"}}),
    ("POST", "/token", {"data": {"grant_type": "x" * 100}}),
    ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "c"}}),
    (
        "POST",
        "/token",
        {"content": b"\xff\xfe", "headers": {"Content-Type": "multipart/form-data"}},
    ),
    ("GET", "/users/me", {"headers": {"Authorization": "Basic Ym9iOnB3"}}),
    ("GET", "/users/me", {"headers": {"Authorization": "Bearer "}}),
    ("GET", "/users/me", {"headers": {"Authorization": "Bearer " + "a" * 4000}}),
    ("GET", "/users/me", {"headers": {"Cookie": "sid=" + "z" * 3000}}),
    ("GET", "/authorize", {}),
    (
        "GET",
        "/authorize",
        {"params": {"response_type": "code", "client_id": "c" * 100, "redirect_uri": "x"}},
    ),  # fmt: skip
    ("POST", "/authorize", {"data": {"client_id": "test-app"}}),
    ("GET", "/orders/abc", {}),
    ("GET", "/orders/99999999999999999999", {}),
    ("DELETE", "/orders/0", {}),
    ("POST", "/login", {"data": {"username": "bob"}}),
    ("POST", "/logout", {}),
    ("GET", "/nowhere", {}),
    ("PUT", "/token", {}),
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from auth.app import create_app
    from tests.conftest import add_people, make_settings, services

    client = TestClient(
        create_app(make_settings(tmp_path_factory.mktemp("bad"))), base_url="https://testserver"
    )
    with client:
        add_people(services(client))
        yield client


@pytest.mark.parametrize(("method", "path", "kwargs"), CASES)
def test_bad_input_is_a_4xx_with_the_error_shape(
    shared: TestClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = shared.request(method, path, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and error["code"]


def test_authenticated_bad_input_too(shared: TestClient) -> None:
    headers = bearer_for(shared, "bob")
    bodies = [
        {"item": "", "quantity": 1},
        {"item": "a", "quantity": 0},
        {"item": "a", "quantity": "many"},
        {"item": "a" * 101, "quantity": 1},
    ]
    for body in bodies:
        response = shared.post("/orders", json=body, headers=headers)
        assert (
            response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
        )
    for code in ("abcdef", "1", "123456789"):
        response = shared.post("/mfa/confirm", json={"code": code}, headers=headers)
        assert 400 <= response.status_code < 500


def test_validation_errors_never_echo_the_password(shared: TestClient) -> None:
    response = shared.post("/session", json={"username": "x" * 65, "password": "hunter2-secret"})
    assert "hunter2-secret" not in response.text


def test_a_body_over_the_cap_is_413_declared_or_streamed(make_client: Factory) -> None:
    client = make_client(max_body_bytes=2048)
    big = {"username": "bob", "password": "p" * 3000}
    declared = client.post("/session", json=big)
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "too_large"

    def chunks() -> Iterator[bytes]:
        yield b'{"username": "bob", "password": "'
        for _ in range(10):
            yield b"p" * 500
        yield b'"}'

    streamed = client.post(
        "/session", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_a_dead_redis_is_503_not_500(make_client: Factory) -> None:
    client = make_client(redis_url="redis://127.0.0.1:1/0")
    response = client.post("/session", json={"username": "bob", "password": "whatever"})
    assert response.status_code == 503 and response.json()["error"]["code"] == "store_unavailable"


def test_a_redis_that_never_answers_is_503_within_seconds(make_client: Factory) -> None:
    """A socket that accepts connections (the kernel's backlog does) and never replies:
    the client's socket timeout turns it into a 503 instead of a request hung forever."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        port = silent.getsockname()[1]
        client = make_client(redis_url=f"redis://127.0.0.1:{port}/0")
        response = client.post("/session", json={"username": "bob", "password": "whatever"})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "store_unavailable"
    finally:
        silent.close()
