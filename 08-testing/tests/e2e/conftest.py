"""E2E tier: the whole app over HTTP, lifespan included, on a fresh SQLite file per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from orders.api import create_app
from orders.payments import PaymentGateway
from orders.settings import Settings
from testkit.fakes import FakeClock, FakePayments, RecordingNotifier

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # tmp_path is unique per test: a fresh database for every API test, no cleanup needed.
    return Settings(database_url=f"sqlite:///{tmp_path / 'orders.db'}", payment_url="sandbox://")


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def payments(request: pytest.FixtureRequest) -> PaymentGateway | None:
    """Which payment provider the app talks to; tests choose with indirect parametrization.

    "sandbox" (the default) means None: the app builds its real HTTP client to the sandbox.
    A list of outcomes means a scripted FakePayments.
    """
    choice = getattr(request, "param", "sandbox")
    return None if choice == "sandbox" else FakePayments(*choice)


@pytest.fixture
def app(
    settings: Settings, payments: PaymentGateway | None, notifier: RecordingNotifier
) -> FastAPI:
    return create_app(settings, payments=payments, clock=FakeClock(NOW), notifier=notifier)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # ASGITransport does not run the lifespan; entering it by hand does, so startup
    # (tables, seed data, payment client) and shutdown happen exactly as under uvicorn.
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            yield client
