"""The authorization code flow with PKCE, as a client runs it: /authorize (form, then a
redirect with code and state), /token with the verifier. Codes are single-use, short-lived,
bound to their client, redirect URI and challenge."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from auth.oauth import new_verifier, s256
from tests.conftest import CLIENT_ID, PEOPLE, REDIRECT, Clock, Factory, error_code, services

STATE = "xyz-123"


def authorize_params(verifier: str, **changes: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": STATE,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return params


def get_code(client: TestClient, verifier: str, who: str = "bob", **changes: str) -> str:
    """What the browser does: submit the form, follow nothing, read the redirect."""
    form = {**authorize_params(verifier, **changes), "username": who, "password": PEOPLE[who][0]}
    response = client.post("/authorize", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    query = parse_qs(target.query)
    assert query["state"] == [STATE]  # the client checks it against what it sent (CSRF)
    return query["code"][0]


def exchange(client: TestClient, code: str, verifier: str | None, **changes: str) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    form.update(changes)
    return client.post("/token", data=form)


def test_the_whole_flow_ends_with_a_token_for_the_user(client: TestClient) -> None:
    verifier = new_verifier()
    page = client.get("/authorize", params=authorize_params(verifier))
    assert page.status_code == 200 and "test-app" in page.text and "<form" in page.text

    token = exchange(client, get_code(client, verifier), verifier)

    assert token.status_code == 200, token.text
    me = client.get(
        "/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["username"] == "bob"


def test_a_code_works_once_and_its_replay_revokes_the_first_token(client: TestClient) -> None:
    verifier = new_verifier()
    code = get_code(client, verifier)
    first = exchange(client, code, verifier).json()["access_token"]

    again = exchange(client, code, verifier)

    assert again.status_code == 400 and error_code(again) == "invalid_grant"
    assert "code_reused" in again.json()["error"]["message"]
    me = client.get("/users/me", headers={"Authorization": f"Bearer {first}"})
    assert me.status_code == 401  # the code leaked, so what it bought is taken back


@pytest.mark.parametrize(
    ("verifier", "reason"),
    [
        (None, "verifier_missing"),  # the PKCE downgrade
        ("", "verifier_missing"),
        ("a" * 43, "verifier_mismatch"),
        ("short", "verifier_mismatch"),
    ],
)
def test_a_wrong_or_missing_verifier_is_invalid_grant(
    make_client: Factory,
    verifier: str | None,
    reason: str,
) -> None:
    client = make_client()
    code = get_code(client, new_verifier())
    response = exchange(client, code, verifier)
    assert response.status_code == 400 and error_code(response) == "invalid_grant"
    assert reason in response.json()["error"]["message"]
    # The failed attempt spent the code: guessing verifiers one by one gets nowhere.
    assert "code_reused" in exchange(client, code, new_verifier()).json()["error"]["message"]


def test_the_code_is_bound_to_its_client_and_redirect_uri(make_client: Factory) -> None:
    client = make_client(oauth_clients={CLIENT_ID: [REDIRECT, REDIRECT + "2"], "other": [REDIRECT]})
    verifier = new_verifier()
    wrong_uri = exchange(client, get_code(client, verifier), verifier, redirect_uri=REDIRECT + "2")
    wrong_client = exchange(client, get_code(client, verifier), verifier, client_id="other")
    assert "redirect_uri_mismatch" in wrong_uri.json()["error"]["message"]
    assert "wrong_client" in wrong_client.json()["error"]["message"]


def test_codes_expire(make_client: Factory, clock: Clock) -> None:
    client = make_client()
    verifier = new_verifier()
    code = get_code(client, verifier)
    clock.advance(services(client).settings.auth_code_ttl_s + 1)
    response = exchange(client, code, verifier)
    assert response.status_code == 400 and "code_expired" in response.json()["error"]["message"]


def test_an_unknown_code_is_invalid_grant(client: TestClient) -> None:
    response = exchange(client, "not-a-code", new_verifier())
    assert response.status_code == 400 and "unknown_code" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),  # no PKCE at all: refused up front
        ({"response_type": "token"}, "unsupported_response_type"),  # the implicit flow
    ],
)
def test_bad_requests_from_a_known_client_go_back_to_it(
    make_client: Factory,
    changes: dict[str, str],
    error: str,
) -> None:
    client = make_client()
    response = client.get(
        "/authorize", params=authorize_params(new_verifier(), **changes), follow_redirects=False
    )
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert response.headers["location"].startswith(REDIRECT + "?")
    assert query["error"] == [error] and query["state"] == [STATE]
    assert "code" not in query


def test_wrong_credentials_at_authorize_issue_no_code(make_client: Factory) -> None:
    client = make_client()
    form = {**authorize_params(new_verifier()), "username": "bob", "password": "wrong"}
    response = client.post("/authorize", data=form, follow_redirects=False)
    assert response.status_code == 401 and "location" not in response.headers
    assert "wrong username or password" in response.text and "<form" in response.text
    assert "value='wrong'" not in response.text  # the password is never echoed back
