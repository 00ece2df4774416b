"""The password flow as FastAPI's tutorial has it, and the rehash a good login triggers -
on every backend (SQLite, Redis sessions, PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import PEOPLE, bearer_for, error_code, services


def test_token_then_users_me(client: TestClient) -> None:
    response = client.post(
        "/token", data={"grant_type": "password", "username": "bob", "password": PEOPLE["bob"][0]}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 43

    me = client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})

    assert me.status_code == 200
    assert me.json() == {
        "username": "bob",
        "roles": ["clerk"],
        "permissions": ["orders:read", "orders:write"],
        "mfa_enabled": False,
        "authenticated_by": "bearer",
    }


def test_no_token_or_a_made_up_one_is_401_with_a_challenge(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer made-up"}):
        response = client.get("/users/me", headers=headers)
        assert response.status_code == 401 and error_code(response) == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_bcrypt_user_is_upgraded_to_argon2id_by_their_next_good_login(
    client: TestClient,
) -> None:
    users = services(client).users
    assert users.stored_hash("dee").startswith("$2b$")  # type: ignore[union-attr]

    bearer_for(client, "dee")

    upgraded = users.stored_hash("dee") or ""
    assert upgraded.startswith("$argon2id$")
    bearer_for(client, "dee")  # the same password still works against the new hash
    assert users.stored_hash("dee") == upgraded  # and nothing is rehashed again


def test_a_wrong_password_changes_no_hash(client: TestClient) -> None:
    users = services(client).users
    before = users.stored_hash("dee")
    response = client.post(
        "/token", data={"grant_type": "password", "username": "dee", "password": "nope"}
    )
    assert response.status_code == 401 and users.stored_hash("dee") == before


def test_unsupported_grant_and_missing_fields_are_400(client: TestClient) -> None:
    r = client.post("/token", data={"grant_type": "client_credentials"})
    assert r.status_code == 400 and error_code(r) == "unsupported_grant_type"
    r = client.post("/token", data={"grant_type": "password", "username": "bob"})
    assert r.status_code == 400 and error_code(r) == "invalid_request"
