"""A local stand-in for the payment provider, so ``python main.py`` needs no account.

It speaks the same HTTP contract as the real provider and is reached through the same
``HttpPaymentGateway`` over an in-process ASGI transport: the client code that runs in the
lesson is the client code that would run in production.

Sandbox rules: customers whose email ends in ``@declined.test`` are declined, and so is any
charge above 5000.00 (a card limit).
"""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

CARD_LIMIT_CENTS = 5000_00


class ChargeIn(BaseModel):
    amount_cents: int = Field(gt=0)
    currency: str
    customer: str


def create_sandbox() -> FastAPI:
    app = FastAPI(title="payment sandbox")
    charges: dict[str, str] = {}  # idempotency key -> charge id

    @app.post("/v1/charges", status_code=201)
    async def charge(
        body: ChargeIn, idempotency_key: str = Header(alias="Idempotency-Key")
    ) -> JSONResponse:
        if body.customer.endswith("@declined.test"):
            return JSONResponse({"reason": "card declined"}, status_code=402)
        if body.amount_cents > CARD_LIMIT_CENTS:
            return JSONResponse({"reason": "over card limit"}, status_code=402)
        charge_id = charges.setdefault(idempotency_key, f"ch_{uuid.uuid4().hex[:16]}")
        return JSONResponse({"id": charge_id}, status_code=201)

    return app
