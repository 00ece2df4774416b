"""The upstream services on their own: REST status codes, Location, pagination, filters, errors."""

from __future__ import annotations

import httpx

from demo.stack import Stack


def client(stack: Stack, name: str) -> httpx.Client:
    return httpx.Client(base_url=stack.upstreams[name][0].url, timeout=5)


def test_create_answers_201_with_location_that_resolves(stack: Stack) -> None:
    with client(stack, "users") as users:
        created = users.post("/users", json={"name": "Barbara", "email": "barbara@example.com"})
        assert created.status_code == 201
        location = created.headers["location"]
        assert location == f"/users/{created.json()['id']}"
        assert users.get(location).json() == created.json()


def test_duplicate_email_is_409_with_error_body(stack: Stack) -> None:
    with client(stack, "users") as users:
        r = users.post("/users", json={"name": "Ada again", "email": "ada@example.com"})
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "conflict"


def test_delete_is_204_then_404(stack: Stack) -> None:
    with client(stack, "orders") as orders:
        first = orders.delete("/orders/1")
        assert first.status_code == 204 and first.content == b""
        second = orders.delete("/orders/1")
        assert second.status_code == 404
        assert second.json()["error"] == {
            "code": "not_found",
            "message": "order 1 not found",
            "details": [],
        }


def test_pagination_reports_total_and_slices(stack: Stack) -> None:
    with client(stack, "catalog") as catalog:
        page = catalog.get("/products", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 3
    assert [p["sku"] for p in page["items"]] == ["MS-02", "MN-03"]
    assert (page["limit"], page["offset"]) == (2, 1)


def test_filters_by_ids_and_price(stack: Stack) -> None:
    with client(stack, "catalog") as catalog:
        by_ids = catalog.get("/products", params={"ids": "3,1"}).json()["items"]
        cheap = catalog.get("/products", params={"max_price": "20"}).json()["items"]
    assert sorted(p["id"] for p in by_ids) == [1, 3]
    assert [p["sku"] for p in cheap] == ["MS-02"]


def test_orders_filter_by_user(stack: Stack) -> None:
    with client(stack, "orders") as orders:
        mine = orders.get("/orders", params={"user_id": 2}).json()
    assert mine["total"] == 1 and mine["items"][0]["user_id"] == 2


def test_bad_input_is_422_with_the_field_named(stack: Stack) -> None:
    with client(stack, "catalog") as catalog:
        bad_price = catalog.post("/products", json={"sku": "AB-1", "name": "x", "price": -1})
        bad_page = catalog.get("/products", params={"limit": 0})
        bad_ids = catalog.get("/products", params={"ids": "1,two"})
    for r in (bad_price, bad_page, bad_ids):
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "validation_error"
    assert bad_price.json()["error"]["details"][0]["loc"] == ["body", "price"]
    assert bad_page.json()["error"]["details"][0]["loc"] == ["query", "limit"]


def test_openapi_documents_the_resources(stack: Stack) -> None:
    with client(stack, "orders") as orders:
        spec = orders.get("/openapi.json").json()
    assert {"/orders", "/orders/{order_id}"} <= set(spec["paths"])
    assert "201" in spec["paths"]["/orders"]["post"]["responses"]
