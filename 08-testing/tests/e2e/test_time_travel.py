"""time-machine through the whole stack: no clock injected, the app reads the system time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import time_machine

from orders.api import create_app
from orders.settings import Settings

BODY = {"customer_email": "ada@example.com", "items": [{"sku": "MUG-01", "quantity": 1}]}


async def test_the_welcome_coupon_lasts_a_year_from_launch(
    tmp_path: Path, time_machine: time_machine.TimeMachineFixture
) -> None:
    # Given the app starts (and seeds its coupons) on launch day, on the real SystemClock
    time_machine.move_to(datetime(2026, 1, 1, tzinfo=UTC), tick=False)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'orders.db'}"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            # When a customer uses it 364 days later, it applies
            time_machine.shift(timedelta(days=364))
            ok = await client.post("/orders", json={**BODY, "coupon": "WELCOME10"})
            assert (ok.status_code, ok.json()["discount_cents"]) == (201, 95)
            assert ok.json()["created_at"].startswith("2026-12-31")

            # When another customer tries a year and a day later, it has expired
            time_machine.shift(timedelta(days=2))
            late = await client.post("/orders", json={**BODY, "coupon": "WELCOME10"})
            assert (late.status_code, late.json()["error"]) == (422, "coupon_expired")
