"""API composition: an order with its user and products, and a degraded answer on failure."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
from fastapi import FastAPI, Response

from demo.serving import ServerThread
from demo.stack import Stack
from gateway.settings import Route
from tests.upstreams import CUT_SHORT, NOT_JSON, BrokenUpstream, json_answer

KEY = {"X-API-Key": "demo-key"}


def test_order_is_joined_with_user_and_products(gateway: httpx.Client) -> None:
    r = gateway.get("/composite/orders/2")
    assert r.status_code == 200
    body = r.json()
    assert body["degraded"] is False and body["missing"] == {}
    assert r.headers["ratelimit-limit"] == "1000"  # composed calls count against the limit too
    assert body["order"]["id"] == 2
    assert body["user"]["name"] == "Grace"
    assert sorted(p["sku"] for p in body["products"]) == ["MN-03", "MS-02"]


def test_user_service_down_gives_partial_result_flagged_degraded(
    gateway: httpx.Client, stack: Stack
) -> None:
    stack.kill("users")
    r = gateway.get("/composite/orders/1")
    assert r.status_code == 200
    body = r.json()
    assert body["degraded"] is True
    assert body["user"] is None
    assert body["products"][0]["sku"] == "KB-01"
    assert body["missing"]["user"].startswith("upstream_unavailable")


def test_both_catalog_instances_down_drops_products(gateway: httpx.Client, stack: Stack) -> None:
    stack.kill("catalog", 0)
    stack.kill("catalog", 1)
    body = gateway.get("/composite/orders/1").json()
    assert body["degraded"] is True
    assert body["products"] is None and body["user"]["name"] == "Ada"
    assert list(body["missing"]) == ["products"]


def routes_with(stack: Stack, **broken: str) -> list[Route]:
    """The stack's routes, with the named ones pointed at another address."""
    return [
        r.model_copy(update={"instances": [broken[r.name]]}) if r.name in broken else r
        for r in stack.routes(timeout_s=3.0)
    ]


def test_part_that_is_not_json_is_missing_not_a_500(
    stack: Stack, start_gateway: Callable[..., ServerThread]
) -> None:
    with BrokenUpstream(NOT_JSON) as broken:
        gw = start_gateway(routes=routes_with(stack, users=broken.url))
        r = httpx.get(f"{gw.url}/composite/orders/1", headers={"X-API-Key": "demo-key"})
    assert r.status_code == 200
    body = r.json()
    assert body["degraded"] is True and body["user"] is None
    assert body["missing"] == {"user": "bad_gateway: users answered with no JSON"}
    assert body["products"][0]["sku"] == "KB-01"


def test_parts_of_an_unexpected_shape_are_missing_not_a_500(
    stack: Stack, start_gateway: Callable[..., ServerThread]
) -> None:
    # Valid JSON, wrong shape: a user that is a list, a product page without "items".
    with (
        BrokenUpstream(json_answer(["not", "a", "user"])) as users,
        BrokenUpstream(json_answer({"data": []})) as catalog,
    ):
        routes = routes_with(stack, users=users.url, catalog=catalog.url)
        gw = start_gateway(routes=routes)
        r = httpx.get(f"{gw.url}/composite/orders/1", headers={"X-API-Key": "demo-key"})
    assert r.status_code == 200
    body = r.json()
    assert body["degraded"] is True and body["user"] is None and body["products"] is None
    assert body["missing"]["user"].startswith("bad_gateway: users answered an unexpected shape")
    assert body["missing"]["products"] == (
        "bad_gateway: catalog answered an unexpected shape (items: Field required)"
    )


def test_order_of_an_unexpected_shape_is_502_with_json(
    stack: Stack, start_gateway: Callable[..., ServerThread]
) -> None:
    order = {"id": 1, "user_id": 1, "lines": [{"sku": "KB-01"}]}  # lines without product_id
    with BrokenUpstream(json_answer(order)) as orders:
        gw = start_gateway(routes=routes_with(stack, orders=orders.url))
        r = httpx.get(f"{gw.url}/composite/orders/1", headers={"X-API-Key": "demo-key"})
    assert r.status_code == 502
    error = r.json()["error"]
    assert error["code"] == "bad_gateway"
    assert error["message"] == (
        "orders answered an unexpected shape (lines.0.product_id: Field required)"
    )


def test_route_table_without_its_parts_is_503_naming_them(
    stack: Stack, start_gateway: Callable[..., ServerThread]
) -> None:
    # A catalog-only gateway (like the bench's) has nothing to compose an order from.
    catalog_only = [r for r in stack.routes() if r.name == "catalog"]
    gw = start_gateway(routes=catalog_only)
    r = httpx.get(f"{gw.url}/composite/orders/1", headers={"X-API-Key": "demo-key"})
    assert r.status_code == 503
    error = r.json()["error"]
    assert error["code"] == "composite_unavailable"
    assert error["message"].endswith("this gateway has no route named orders, users")
    # The rest of the gateway is unaffected.
    assert httpx.get(f"{gw.url}/products/1", headers={"X-API-Key": "demo-key"}).status_code == 200


def test_order_cut_short_is_502_not_a_500(
    stack: Stack, start_gateway: Callable[..., ServerThread]
) -> None:
    with BrokenUpstream(CUT_SHORT) as broken:
        gw = start_gateway(routes=routes_with(stack, orders=broken.url))
        r = httpx.get(f"{gw.url}/composite/orders/1", headers={"X-API-Key": "demo-key"})
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "bad_gateway"


def test_missing_order_is_404(gateway: httpx.Client) -> None:
    r = gateway.get("/composite/orders/999")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_orders_down_is_503_not_a_partial_result(gateway: httpx.Client, stack: Stack) -> None:
    stack.kill("orders")
    r = gateway.get("/composite/orders/1")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "upstream_unavailable"


def test_orders_answering_503_is_503_with_json(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    # The service itself says it cannot serve: the composite passes on that reason (503),
    # in the gateway's error shape, rather than a generic 502.
    unavailable = FastAPI()

    @unavailable.get("/orders/{order_id}")
    async def order(order_id: int) -> Response:
        return Response(status_code=503)

    down = serve(unavailable)
    routes = [
        Route(name=name, prefix=f"/{name}", instances=[down.url], retries=0)
        for name in ("orders", "users", "catalog")
    ]
    r = httpx.get(f"{start_gateway(routes=routes).url}/composite/orders/1", headers=KEY)
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "upstream_unavailable"
    assert r.json()["error"]["message"] == "orders answered 503"


def test_bad_order_id_is_422_with_json(gateway: httpx.Client) -> None:
    for bad in ("abc", "0", "-3"):
        r = gateway.get(f"/composite/orders/{bad}")
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["loc"] == ["path", "order_id"]


def test_bad_bodies_through_the_gateway_are_422_never_500(gateway: httpx.Client) -> None:
    bad = [
        gateway.post("/orders", content=b"{not json", headers={"Content-Type": "application/json"}),
        gateway.post("/orders", json={"user_id": 1, "lines": []}),
        gateway.post("/users", json={"name": "", "email": "nope"}),
        gateway.get("/products", params={"limit": "many"}),
    ]
    for r in bad:
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "validation_error"


def test_user_and_products_are_fetched_concurrently(
    stack: Stack, serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    # Both parts wait at a barrier for two parties: they can only answer if the gateway has
    # asked for both at once. Fetched one after the other, the first would wait in vain, the
    # route's 2 s budget would run out, and the answer would come back degraded.
    meeting = threading.Barrier(2)
    parts = FastAPI()

    @parts.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, object]:
        await asyncio.to_thread(meeting.wait, 5)
        return {"id": user_id, "name": "met"}

    @parts.get("/products")
    async def products() -> dict[str, object]:
        await asyncio.to_thread(meeting.wait, 5)
        return {"items": [{"id": 1, "name": "met"}]}

    both = serve(parts)
    orders = stack.upstreams["orders"][0].url
    gw = start_gateway(
        routes=[
            Route(name="orders", prefix="/orders", instances=[orders]),
            Route(name="users", prefix="/users", instances=[both.url], timeout_s=2, retries=0),
            Route(name="catalog", prefix="/products", instances=[both.url], timeout_s=2, retries=0),
        ]
    )
    body = httpx.get(f"{gw.url}/composite/orders/1", headers={"X-API-Key": "demo-key"}).json()
    assert body["degraded"] is False, body["missing"]
    assert body["user"]["name"] == body["products"][0]["name"] == "met"
