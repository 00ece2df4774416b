"""API keys at the edge: 401 without a known key, 403 for a key without access to the route."""

from __future__ import annotations

import httpx


def test_missing_key_is_401_with_challenge(gateway: httpx.Client) -> None:
    r = gateway.get("/users/1", headers={"X-API-Key": ""})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "X-API-Key"
    assert r.json()["error"]["code"] == "unauthenticated"
    assert r.json()["error"]["request_id"] == r.headers["x-request-id"]


def test_unknown_key_is_401(gateway: httpx.Client) -> None:
    r = gateway.get("/users/1", headers={"X-API-Key": "guess"})
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "unknown API key"


def test_key_without_access_to_route_is_403(gateway: httpx.Client) -> None:
    limited = {"X-API-Key": "catalog-key"}
    assert gateway.get("/products/1", headers=limited).status_code == 200
    denied = gateway.get("/orders/1", headers=limited)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    assert gateway.get("/composite/orders/1", headers=limited).status_code == 403


def test_health_and_docs_need_no_key(gateway: httpx.Client) -> None:
    anonymous = {"X-API-Key": ""}
    assert gateway.get("/health", headers=anonymous).json() == {"status": "ok"}
    assert gateway.get("/ready", headers=anonymous).json()["ready"] is True
    spec = gateway.get("/openapi.json", headers=anonymous).json()
    assert "/composite/orders/{order_id}" in spec["paths"]


def test_caller_identity_reaches_the_service(gateway: httpx.Client) -> None:
    order = {"user_id": 1, "lines": [{"product_id": 1, "quantity": 2}]}
    r = gateway.post("/orders", json=order)
    assert r.status_code == 201
    assert r.json()["created_by"] == "demo"
    assert gateway.get(r.headers["location"]).json()["created_by"] == "demo"


def test_dot_segments_cannot_escape_a_permitted_prefix(gateway: httpx.Client) -> None:
    # httpx would resolve a literal "/../" itself, so the dots are percent-encoded here;
    # the server decodes them, which is exactly what an attacker relies on.
    r = gateway.get("/products/%2E%2E/orders/1", headers={"X-API-Key": "catalog-key"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_path"
