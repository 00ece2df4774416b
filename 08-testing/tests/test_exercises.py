"""Tests for the README's exercises. Deselected by default; run them with

    pytest -m exercise --no-cov

They fail until you implement the exercise, then pass. Imports of things the exercise adds
live inside the tests, so the rest of the suite collects fine before you start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from orders.api import create_app
from orders.domain import LineItem, price_order
from orders.payments import PaymentUnavailable
from orders.settings import Settings
from testkit.fakes import FakePayments

pytestmark = pytest.mark.exercise
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_exercise_2_three_different_products_earn_a_loyalty_discount() -> None:
    lines = [LineItem("A", 1, 10_00), LineItem("B", 1, 10_00), LineItem("C", 1, 10_00)]
    assert price_order(lines, None, NOW).discount_cents == 60  # 2% of 30.00
    two_kinds = [LineItem("A", 2, 10_00), LineItem("B", 1, 10_00)]
    assert price_order(two_kinds, None, NOW).discount_cents == 0


async def test_exercise_3_a_pending_order_can_be_cancelled(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'orders.db'}")
    app = create_app(settings, payments=FakePayments(PaymentUnavailable("down")))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            body = {"customer_email": "a@b.c", "items": [{"sku": "KB-MECH", "quantity": 3}]}
            order_id = (await client.post("/orders", json=body)).json()["order_id"]

            cancelled = await client.post(f"/orders/{order_id}/cancel")

            assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
            products = (await client.get("/products")).json()
            assert next(p["stock"] for p in products if p["sku"] == "KB-MECH") == 3
            again = await client.post(f"/orders/{order_id}/cancel")
            assert (again.status_code, again.json()["error"]) == (409, "not_cancellable")
