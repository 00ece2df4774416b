"""A small asyncio chat client built on the `websockets` library (the demo and the tests)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx2
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chat.protocol import SERVER_FRAME, Ping, ServerFrame, Welcome

Predicate = Callable[[ServerFrame], bool]


async def fetch_token(base_url: str, name: str) -> str:
    async with httpx2.AsyncClient(base_url=base_url) as http:
        response = await http.post("/session", json={"name": name})
        response.raise_for_status()
        return str(response.json()["token"])


def ws_url(base_url: str, token: str) -> str:
    return base_url.replace("http", "ws", 1) + f"/ws?token={token}"


class ChatClient:
    """Reads frames in a background task, answers pings, and lets callers await a frame."""

    def __init__(
        self,
        ws: ClientConnection,
        user: str,
        answer_pings: bool = True,
    ) -> None:
        self.ws = ws
        self.user = user
        self.answer_pings = answer_pings
        self.received: list[ServerFrame] = []  # everything, in order (pings excluded)
        self._unclaimed: list[ServerFrame] = []  # not yet returned by expect()
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read(), name=f"client-{user}")

    @classmethod
    async def connect(cls, base_url: str, name: str, **options: Any) -> ChatClient:
        token = await fetch_token(base_url, name)
        ws = await connect(ws_url(base_url, token), compression=None)
        client = cls(ws, name, **options)
        await client.expect(lambda f: isinstance(f, Welcome))
        return client

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                frame = SERVER_FRAME.validate_json(raw)
                if isinstance(frame, Ping):
                    if self.answer_pings:
                        await self.ws.send('{"type":"pong"}')
                    continue
                self.received.append(frame)
                self._unclaimed.append(frame)
                self._arrived.set()

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def expect(self, predicate: Predicate, within: float = 5.0) -> ServerFrame:
        """Return the oldest unclaimed frame matching `predicate`, waiting for it if needed.

        Frames that do not match stay available to later calls, so the order in which a caller
        waits for things does not have to match the order in which they arrive."""
        async with asyncio.timeout(within):
            while True:
                for i, frame in enumerate(self._unclaimed):
                    if predicate(frame):
                        del self._unclaimed[i]
                        return frame
                # No await between the scan and clear(): nothing can arrive in between.
                self._arrived.clear()
                await self._arrived.wait()

    async def closed(self, within: float = 5.0) -> int | None:
        """Wait until the server closes the connection; return the close code it sent."""
        async with asyncio.timeout(within):
            await self.ws.wait_closed()
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
