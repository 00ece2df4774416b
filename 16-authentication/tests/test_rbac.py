"""Roles and permissions from the database, table-driven: role x endpoint -> status. Then
the object-level check (owner or admin) that a role check cannot make, and 401 vs 403."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from auth.users import ROLES
from tests.conftest import Factory, bearer_for, error_code, services

# Who (user -> role): ada admin, bob clerk, cyd viewer; None: no credentials at all.
TABLE = [
    # method, path,            body,                              ada, bob, cyd, nobody
    ("GET", "/orders", None, 200, 200, 200, 401),
    ("POST", "/orders", {"item": "pen", "quantity": 2}, 201, 201, 403, 401),
    ("GET", "/admin/users", None, 200, 403, 403, 401),
    ("GET", "/users/me", None, 200, 200, 200, 401),
]


@pytest.fixture(scope="module")
def tokens_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from auth.app import create_app
    from tests.conftest import add_people, make_settings

    client = TestClient(
        create_app(make_settings(tmp_path_factory.mktemp("rbac"))), base_url="https://testserver"
    )
    client.__enter__()
    add_people(services(client))
    yield client
    client.__exit__(None, None, None)


@pytest.mark.parametrize(("method", "path", "body", *["ada", "bob", "cyd", "nobody"]), TABLE)
@pytest.mark.parametrize("who", ["ada", "bob", "cyd", "nobody"])
def test_role_by_endpoint(
    tokens_client: TestClient, who: str, method: str, path: str, body: dict[str, object] | None,
    ada: int, bob: int, cyd: int, nobody: int,
) -> None:  # fmt: skip
    expected = {"ada": ada, "bob": bob, "cyd": cyd, "nobody": nobody}[who]
    headers = bearer_for(tokens_client, who) if who != "nobody" else {}
    response = tokens_client.request(method, path, json=body, headers=headers)
    assert response.status_code == expected, response.text
    if expected == 403:
        assert (
            error_code(response) == "forbidden"
            and "permission" in response.json()["error"]["message"]
        )


def test_roles_live_in_the_database(make_client: Factory) -> None:
    """Granting a permission to a role is data, not code: the same user gets a new answer."""
    client = make_client()
    svc = services(client)
    viewer = bearer_for(client, "cyd")
    assert (
        client.post("/orders", json={"item": "a", "quantity": 1}, headers=viewer).status_code == 403
    )

    svc.users.ensure_roles({**ROLES, "viewer": ("orders:read", "orders:write")})

    assert (
        client.post("/orders", json={"item": "a", "quantity": 1}, headers=viewer).status_code == 201
    )


def test_owner_or_admin_on_a_single_order(make_client: Factory) -> None:
    client = make_client()
    bob, eli, ada = (bearer_for(client, n) for n in ("bob", "eli", "ada"))
    order = client.post("/orders", json={"item": "ink", "quantity": 1}, headers=bob).json()
    url = f"/orders/{order['id']}"

    # eli holds orders:write too - the role check passes, the object check does not (IDOR).
    assert client.get(url, headers=eli).status_code == 403
    assert client.delete(url, headers=eli).status_code == 403
    assert client.get("/orders", headers=eli).json() == []  # lists only what is hers
    assert client.get(url, headers=bob).status_code == 200
    assert client.get(url, headers=ada).status_code == 200  # admin: orders:any
    assert [o["id"] for o in client.get("/orders", headers=ada).json()] == [order["id"]]
    assert client.delete(url, headers=ada).status_code == 204
    assert client.get(url, headers=bob).status_code == 404
