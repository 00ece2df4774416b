"""Client for the external payment provider's HTTP API.

The provider contract (what the sandbox and respx in the tests both speak):
``POST /v1/charges`` with ``{"amount_cents", "currency", "customer"}`` and an
``Idempotency-Key`` header. 201 -> ``{"id": ...}``; 402 -> declined with ``{"reason": ...}``.

The status code carries the outcome and the body the details, so a body that cannot be read
is handled by status: a 402 is a decline even without a readable reason, and a 201 without a
readable charge id is a ``PaymentError`` (the charge may have happened; the order stays
pending, and a retry with the same idempotency key is safe), never a crash.

The idempotency key is the order id, which makes a retry safe: if the first attempt reached the
provider but the answer got lost, the second attempt returns the same charge instead of
charging twice.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import httpx


class PaymentError(Exception):
    """The payment did not go through. The service fills in ``order_id`` for the caller."""

    order_id: str | None = None


class PaymentDeclined(PaymentError):
    """The provider said no (card declined, limit). Retrying will not help."""


class PaymentUnavailable(PaymentError):
    """The provider did not answer properly (timeout, 5xx). Retrying later may help."""


class PaymentGateway(Protocol):
    async def charge(self, *, amount_cents: int, customer: str, idempotency_key: str) -> str:
        """Charge the customer; return the provider's charge id."""


def _body(response: httpx.Response) -> dict[str, object]:
    """The JSON object the provider sent, or ``{}`` when the body is not one."""
    try:
        body = response.json()
    except ValueError:  # not JSON at all (an HTML error page, an empty body, bad encoding)
        return {}
    return body if isinstance(body, dict) else {}


class HttpPaymentGateway:
    def __init__(
        self, client: httpx.AsyncClient, *, attempts: int = 2, backoff_s: float = 0.2
    ) -> None:
        self._client = client
        self._attempts = attempts
        self._backoff_s = backoff_s

    async def charge(self, *, amount_cents: int, customer: str, idempotency_key: str) -> str:
        payload = {"amount_cents": amount_cents, "currency": "EUR", "customer": customer}
        headers = {"Idempotency-Key": idempotency_key}
        problem = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._client.post("/v1/charges", json=payload, headers=headers)
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.TransportError as exc:
                problem = f"unreachable ({type(exc).__name__})"
            else:
                if response.status_code == 201:
                    charge_id = _body(response).get("id")
                    if not isinstance(charge_id, str) or not charge_id:
                        raise PaymentError("provider answered 201 without a charge id")
                    return charge_id
                if response.status_code == 402:
                    reason = _body(response).get("reason")
                    if not isinstance(reason, str) or not reason:
                        reason = "declined"
                    raise PaymentDeclined(reason)
                if response.status_code < 500:
                    # A 4xx other than 402 means *our* request is wrong: retrying cannot fix it.
                    raise PaymentError(f"provider rejected the request: {response.status_code}")
                problem = f"answered {response.status_code}"
            if attempt < self._attempts:
                await asyncio.sleep(self._backoff_s * attempt)
        raise PaymentUnavailable(f"payment provider {problem} after {self._attempts} attempts")
