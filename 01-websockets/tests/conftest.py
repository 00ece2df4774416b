"""Fixtures shared by the tests: settings, live servers, and service probes.

A service probe skips its tests with a hint when the service is missing, unless
LESSONS_REQUIRE_SERVICES names it (or says `all`): then the test fails, so CI can never go
green by skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack
from typing import Any, Protocol

import pytest
import redis
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from chat.app import create_app
from chat.settings import Settings, masked
from tools.serving import running_server


def _unavailable(service: str, hint: str) -> None:
    wanted = {s.strip() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    if service in wanted or "all" in wanted:
        pytest.fail(f"{hint} (required by LESSONS_REQUIRE_SERVICES)")
    pytest.skip(hint)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        hint = f"Redis not reachable at {masked(url)} - run: docker compose up -d redis"
        _unavailable("redis", hint)
    finally:
        client.close()
    return url


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    """A key/channel prefix no other test run uses; its keys are deleted afterwards."""
    ns = f"test-chat-{secrets.token_hex(4)}"
    yield ns
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{ns}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        _unavailable(
            "browser",
            f"Chromium not found at {path} - install it: apt-get install chromium "
            "(or set CHROMIUM_PATH)",
        )
    return path


MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings() -> MakeSettings:
    """Settings for a test: the documented defaults, whatever CHAT_* variables or a .env file
    say, then a free port and a generous rate limit, then the test's own overrides."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            name: field.default for name, field in Settings.model_fields.items()
        }
        values.update(_env_file=None, port=0, rate_per_second=1000.0, rate_burst=1000)
        values.update(overrides)
        return Settings(**values)

    return make


class Serve(Protocol):
    def __call__(
        self, settings: Settings, *, send_buffer: int | None = None
    ) -> AbstractAsyncContextManager[str]: ...


@pytest.fixture
def serve() -> Serve:
    """`async with serve(settings) as url:` runs a real uvicorn server on a free port;
    `send_buffer=` caps the kernel send buffer of its sockets."""
    return running_server


@pytest.fixture
async def server_url(make_settings: MakeSettings) -> AsyncIterator[str]:
    async with running_server(make_settings()) as url:
        yield url


# --- in-process tier (TestClient) ---------------------------------------------------

Connect = Callable[[str], WebSocketTestSession]


@pytest.fixture
def client(make_settings: MakeSettings) -> Iterator[TestClient]:
    # A burst of 5 that barely refills: the rate-limit test counts refused frames, and at 1/s a
    # pause of a second on a busy machine would hand out an extra token and change the count.
    settings = make_settings(max_frame_bytes=1024, rate_per_second=0.001, rate_burst=5)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def token_for(client: TestClient, name: str) -> str:
    response = client.post("/session", json={"name": name})
    assert response.status_code == 200
    return str(response.json()["token"])


@pytest.fixture
def open_ws(client: TestClient) -> Iterator[Connect]:
    """Open authenticated sockets; every one is closed (context exited) after the test."""
    with ExitStack() as stack:

        def connect(name: str) -> WebSocketTestSession:
            ws = stack.enter_context(
                client.websocket_connect(f"/ws?token={token_for(client, name)}")
            )
            assert ws.receive_json() == {"type": "welcome", "user": name, "heartbeat": 10.0}
            return ws

        yield connect
