"""The HTTP API end to end: status codes, error shapes, and the order's life over requests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orders.api import create_app, payment_client
from orders.payments import PaymentError, PaymentUnavailable
from orders.settings import Settings
from testkit.fakes import RecordingNotifier


def order_body(
    *items: tuple[str, int], coupon: str | None = None, email: str = "ada@example.com"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_email": email,
        "items": [{"sku": sku, "quantity": qty} for sku, qty in items],
    }
    if coupon:
        body["coupon"] = coupon
    return body


async def stock_of(client: httpx.AsyncClient, sku: str) -> int:
    products = (await client.get("/products")).json()
    return next(p["stock"] for p in products if p["sku"] == sku)


async def test_health_and_the_seeded_catalogue(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    products = (await client.get("/products")).json()
    assert [p["sku"] for p in products] == ["BOOK-PY", "KB-MECH", "MUG-01", "STICKER"]
    assert products[2] == {
        "sku": "MUG-01",
        "name": "Coffee mug",
        "price_cents": 950,
        "price": "9.50",
        "stock": 200,
    }


@pytest.mark.parametrize(
    "payments", ["sandbox", ["ch_fake"]], indirect=True, ids=["sandbox", "fake"]
)
async def test_an_order_is_placed_paid_and_readable(
    client: httpx.AsyncClient, notifier: RecordingNotifier
) -> None:
    response = await client.post("/orders", json=order_body(("MUG-01", 12), coupon="WELCOME10"))

    assert response.status_code == 201
    order = response.json()
    # 12 x 9.50 = 114.00; bulk 5% = 5.70; 10% of 108.30 = 10.83; free shipping
    assert (order["subtotal_cents"], order["discount_cents"], order["total"]) == (
        11400,
        1653,
        "97.47",
    )
    assert order["status"] == "paid" and order["charge_id"].startswith("ch_")
    assert (await client.get(f"/orders/{order['id']}")).json() == order
    assert await stock_of(client, "MUG-01") == 188
    assert notifier.paid == [order["id"]]


async def test_concurrent_orders_for_the_last_units_never_oversell_nor_fail(
    client: httpx.AsyncClient,
) -> None:
    # Given 3 keyboards in stock and 8 customers ordering one at the same moment
    body = order_body(("KB-MECH", 1))
    responses = await asyncio.gather(*(client.post("/orders", json=body) for _ in range(8)))
    # Then three are sold, the others hear "out of stock", and nobody gets a 500
    assert sorted(r.status_code for r in responses) == [201] * 3 + [409] * 5
    assert await stock_of(client, "KB-MECH") == 0


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"items": [{"sku": "MUG-01", "quantity": 1}]}, ["body", "customer_email"]),
        (order_body(("MUG-01", 1), email="not-an-email"), ["body", "customer_email"]),
        (order_body(("MUG-01", 0)), ["body", "items", 0, "quantity"]),
        (order_body(("", 1)), ["body", "items", 0, "sku"]),
    ],
    ids=["missing-email", "bad-email", "zero-quantity", "empty-sku"],
)
async def test_malformed_requests_get_422_saying_where(
    client: httpx.AsyncClient, body: dict[str, Any], where: list[object]
) -> None:
    response = await client.post("/orders", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert where in [problem["loc"] for problem in response.json()["detail"]]


async def test_a_body_that_is_not_json_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["error"]) == (422, "invalid_request")


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (order_body(), 422, "empty_order"),
        (order_body(("NOPE", 1)), 422, "unknown_product"),
        (order_body(("MUG-01", 60), ("MUG-01", 60)), 422, "invalid_quantity"),
        (order_body(("MUG-01", 1), coupon="NOPE"), 422, "unknown_coupon"),
        (order_body(("MUG-01", 1), coupon="BIG20"), 422, "coupon_not_applicable"),
        (order_body(("KB-MECH", 4)), 409, "out_of_stock"),
    ],
    ids=["empty", "unknown-sku", "two-lines-of-60", "unknown-coupon", "below-minimum", "no-stock"],
)
async def test_business_rule_violations_map_to_stable_errors(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, error: str
) -> None:
    response = await client.post("/orders", json=body)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [("GET", "/nope", 404, "not_found"), ("DELETE", "/orders", 405, "method_not_allowed")],
    ids=["unknown-path", "wrong-method"],
)
async def test_routing_errors_keep_the_error_shape(
    client: httpx.AsyncClient, method: str, path: str, status: int, error: str
) -> None:
    response = await client.request(method, path)
    assert (response.status_code, response.json()["error"]) == (status, error)
    if status == 405:
        assert response.headers["allow"] == "POST"


async def test_an_unknown_order_is_a_404_with_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/orders/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "order_not_found", "detail": "no order nope"}


async def test_a_declined_payment_is_a_402_and_the_order_is_kept(client: httpx.AsyncClient) -> None:
    body = order_body(("KB-MECH", 2), email="bob@declined.test")
    response = await client.post("/orders", json=body)

    assert response.status_code == 402
    assert response.json()["error"] == "payment_declined"
    stored = (await client.get(f"/orders/{response.json()['order_id']}")).json()
    assert (stored["status"], stored["failure_reason"]) == ("payment_failed", "card declined")
    assert await stock_of(client, "KB-MECH") == 3  # released again


@pytest.mark.parametrize("payments", [[PaymentUnavailable("provider timed out")]], indirect=True)
async def test_an_unavailable_provider_is_a_503_and_the_order_can_be_paid_later(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/orders", json=order_body(("BOOK-PY", 1)))
    assert (response.status_code, response.json()["error"]) == (503, "payment_unavailable")
    order_id = response.json()["order_id"]
    assert (await client.get(f"/orders/{order_id}")).json()["status"] == "pending_payment"

    retried = await client.post(f"/orders/{order_id}/pay")
    assert (retried.status_code, retried.json()["status"]) == (200, "paid")
    again = await client.post(f"/orders/{order_id}/pay")
    assert (again.status_code, again.json()["error"]) == (409, "not_payable")


@pytest.mark.parametrize("payments", [[PaymentError("provider rejected: 400")]], indirect=True)
async def test_a_provider_rejecting_our_request_is_a_502(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json=order_body(("BOOK-PY", 1)))
    assert (response.status_code, response.json()["error"]) == (502, "payment_error")
    assert response.json()["order_id"]


async def test_a_charge_answer_without_a_charge_id_is_a_502_and_the_order_waits(
    settings: Settings,
) -> None:
    # The real HTTP client against a provider (respx) whose 201 carries an HTML page instead
    # of {"id": ...}. The charge may have gone through, so the order stays pending with its
    # stock held; the client gets the JSON error with the order id, and a retry (same
    # idempotency key) finishes the order once the provider answers properly.
    app = create_app(settings.model_copy(update={"payment_url": "http://provider"}))
    with respx.mock(base_url="http://provider", assert_all_called=True) as provider:
        provider.post("/v1/charges").side_effect = [
            httpx.Response(201, text="<html>charge created</html>"),
            httpx.Response(201, json={"id": "ch_late"}),
        ]
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
                response = await client.post("/orders", json=order_body(("BOOK-PY", 1)))
                assert response.status_code == 502
                assert response.json() == {
                    "error": "payment_error",
                    "detail": "provider answered 201 without a charge id",
                    "order_id": response.json()["order_id"],
                }
                order_id = response.json()["order_id"]
                stored = (await client.get(f"/orders/{order_id}")).json()
                assert stored["status"] == "pending_payment"
                assert await stock_of(client, "BOOK-PY") == 24  # still held for the order

                retried = await client.post(f"/orders/{order_id}/pay")
                assert (retried.status_code, retried.json()["charge_id"]) == (200, "ch_late")


class BrokenPayments:
    """A gateway with a bug: it raises what no handler expects."""

    async def charge(self, *, amount_cents: int, customer: str, idempotency_key: str) -> str:
        raise RuntimeError("a bug, with internals: secret-token-123")


async def test_an_unexpected_error_is_a_json_500_that_shows_no_internals(
    settings: Settings,
) -> None:
    app = create_app(settings, payments=BrokenPayments())
    async with app.router.lifespan_context(app):
        # raise_app_exceptions=False: answer like a server does. Starlette re-raises the
        # exception after sending the 500, so that the server logs it with its traceback
        # (tests/test_cli.py checks that log); by default the transport would raise it here.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            response = await client.post("/orders", json=order_body(("BOOK-PY", 1)))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "internal_error", "detail": "internal server error"}


async def test_paying_an_unknown_order_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders/nope/pay")
    assert (response.status_code, response.json()["error"]) == (404, "order_not_found")


def test_the_same_app_through_the_synchronous_test_client(app: FastAPI) -> None:
    # TestClient runs the app (and, as a context manager, its lifespan) on a private event
    # loop, so plain `def` tests work: handy in a sync code base or for a quick check.
    with TestClient(app) as client:
        created = client.post("/orders", json=order_body(("STICKER", 3)))
        assert created.status_code == 201
        assert client.get(f"/orders/{created.json()['id']}").json()["total"] == "8.59"


async def test_restarting_the_app_does_not_seed_twice(app: FastAPI) -> None:
    for _ in range(2):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
                assert len((await client.get("/products")).json()) == 4


async def test_a_real_provider_url_gets_a_plain_http_client() -> None:
    settings = Settings(payment_url="http://localhost:9000", payment_timeout_s=1.5)
    async with payment_client(settings) as client:
        assert str(client.base_url) == "http://localhost:9000"
        assert client.timeout.read == 1.5


async def test_without_seeding_the_catalogue_starts_empty(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"seed_demo_data": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            assert (await client.get("/products")).json() == []
