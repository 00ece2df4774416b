"""The payment client against its HTTP contract, with respx standing in for the provider.

respx intercepts httpx at the transport, so the real client code runs: URL, headers, JSON,
status handling, retries. No socket is opened and no provider is needed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx
from fastapi import FastAPI

from orders.payments import HttpPaymentGateway, PaymentDeclined, PaymentError, PaymentUnavailable
from orders.sandbox import create_sandbox

BASE = "http://provider"


@pytest.fixture
async def gateway() -> AsyncIterator[HttpPaymentGateway]:
    async with httpx.AsyncClient(base_url=BASE) as client:
        yield HttpPaymentGateway(client, attempts=2, backoff_s=0)  # no waiting in tests


@pytest.fixture
def provider() -> Iterator[respx.MockRouter]:
    # assert_all_called: a route the test set up but the code never hit is a failure too.
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


async def charge(gateway: HttpPaymentGateway) -> str:
    return await gateway.charge(
        amount_cents=12_34, customer="ada@example.com", idempotency_key="o-1"
    )


async def test_a_successful_charge_sends_the_contract_and_returns_the_id(
    gateway: HttpPaymentGateway, provider: respx.MockRouter
) -> None:
    route = provider.post("/v1/charges").respond(201, json={"id": "ch_123"})

    assert await charge(gateway) == "ch_123"

    sent = route.calls.last.request
    assert sent.headers["Idempotency-Key"] == "o-1"
    assert sent.read() == b'{"amount_cents":1234,"currency":"EUR","customer":"ada@example.com"}'


async def test_a_decline_is_final_and_not_retried(
    gateway: HttpPaymentGateway, provider: respx.MockRouter
) -> None:
    route = provider.post("/v1/charges").respond(402, json={"reason": "insufficient funds"})
    with pytest.raises(PaymentDeclined, match="insufficient funds"):
        await charge(gateway)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "first_failure",
    [httpx.Response(503), httpx.ReadTimeout("slow"), httpx.ConnectError("refused")],
    ids=["503", "read-timeout", "connect-error"],
)
async def test_a_transient_failure_is_retried_with_the_same_idempotency_key(
    gateway: HttpPaymentGateway,
    provider: respx.MockRouter,
    first_failure: httpx.Response | Exception,
) -> None:
    route = provider.post("/v1/charges")
    route.side_effect = [first_failure, httpx.Response(201, json={"id": "ch_ok"})]

    assert await charge(gateway) == "ch_ok"

    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert keys == ["o-1", "o-1"]  # the provider can tell it is the same charge


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (httpx.Response(500), "answered 500"),
        (httpx.ConnectTimeout("slow"), "timed out"),
        (httpx.ConnectError("refused"), "unreachable (ConnectError)"),
    ],
    ids=["500", "timeout", "unreachable"],
)
async def test_giving_up_after_the_last_attempt_says_why(
    gateway: HttpPaymentGateway,
    provider: respx.MockRouter,
    failure: httpx.Response | Exception,
    reason: str,
) -> None:
    route = provider.post("/v1/charges")
    route.side_effect = [failure, failure]
    with pytest.raises(PaymentUnavailable, match=re.escape(f"{reason} after 2 attempts")):
        await charge(gateway)
    assert route.call_count == 2


async def test_a_4xx_means_our_request_is_wrong_and_is_not_retried(
    gateway: HttpPaymentGateway, provider: respx.MockRouter
) -> None:
    route = provider.post("/v1/charges").respond(400, json={"error": "bad currency"})
    with pytest.raises(PaymentError, match="rejected the request: 400") as caught:
        await charge(gateway)
    assert not isinstance(caught.value, PaymentUnavailable)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(201, text="<html>charge created</html>"),
        httpx.Response(201, json={"charge": "ch_123"}),
        httpx.Response(201, json=["ch_123"]),
        httpx.Response(201, json={"id": ""}),
    ],
    ids=["not-json", "no-id", "not-an-object", "empty-id"],
)
async def test_a_success_without_a_readable_charge_id_is_a_payment_error(
    gateway: HttpPaymentGateway, provider: respx.MockRouter, answer: httpx.Response
) -> None:
    # The provider may have charged: the order must stay pending (PaymentError, not a crash
    # the API turns into a bare 500), and a retry with the same idempotency key is safe.
    route = provider.post("/v1/charges").mock(return_value=answer)
    with pytest.raises(PaymentError, match="201 without a charge id") as caught:
        await charge(gateway)
    assert type(caught.value) is PaymentError  # neither declined nor "try again later"
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(402, text="Payment Required"), "declined"),
        (httpx.Response(402, json=["no"]), "declined"),
        (httpx.Response(402, json={"reason": "stolen card"}), "stolen card"),
    ],
    ids=["not-json", "not-an-object", "with-reason"],
)
async def test_a_decline_is_a_decline_whatever_its_body(
    gateway: HttpPaymentGateway, provider: respx.MockRouter, answer: httpx.Response, reason: str
) -> None:
    # The status code carries the outcome; the body only adds the reason, when it can be read.
    provider.post("/v1/charges").mock(return_value=answer)
    with pytest.raises(PaymentDeclined, match=f"^{reason}$"):
        await charge(gateway)


async def test_the_backoff_grows_with_each_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    # Record the waits instead of sleeping them: the test checks the schedule, not the clock.
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("orders.payments.asyncio.sleep", fake_sleep)
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    async with httpx.AsyncClient(base_url=BASE, transport=transport) as client:
        with pytest.raises(PaymentUnavailable):
            await charge(HttpPaymentGateway(client, attempts=3, backoff_s=0.5))
    assert waits == [0.5, 1.0]


@pytest.fixture(scope="module")
def sandbox() -> FastAPI:
    # Module scope: built once, shared by every test in this file. The sandbox keeps state
    # (charges by idempotency key), so each test uses keys no other test uses: a wider scope
    # saves set-up, and the price is that tests can see each other's leftovers.
    return create_sandbox()


@pytest.fixture
async def sandbox_gateway(sandbox: FastAPI) -> AsyncIterator[HttpPaymentGateway]:
    # A function-scoped fixture on top of the module-scoped one: a fresh client per test.
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield HttpPaymentGateway(client, backoff_s=0)


async def test_the_sandbox_charges_once_per_idempotency_key(
    sandbox_gateway: HttpPaymentGateway,
) -> None:
    first = await charge(sandbox_gateway)
    assert first.startswith("ch_")
    assert await charge(sandbox_gateway) == first  # same idempotency key, same charge


async def test_the_sandbox_declines_like_the_provider(sandbox_gateway: HttpPaymentGateway) -> None:
    with pytest.raises(PaymentDeclined, match="card declined"):
        await sandbox_gateway.charge(
            amount_cents=1, customer="x@declined.test", idempotency_key="2"
        )
    with pytest.raises(PaymentDeclined, match="over card limit"):
        await sandbox_gateway.charge(amount_cents=5000_01, customer="x@y.z", idempotency_key="3")
