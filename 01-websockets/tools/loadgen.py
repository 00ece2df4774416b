"""Fan-out load generator for bench.py: N listeners in one room, one sender, latency per delivery.

Every listener lives in this process, so send and receive times come from one clock
(time.perf_counter) and no clock skew between machines can creep into the numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from dataclasses import dataclass

import httpx2
from websockets.asyncio.client import ClientConnection, connect

from tools.client import ws_url


@dataclass
class Round:
    p50_ms: float
    p99_ms: float
    deliveries_per_s: float
    messages_per_s: float  # messages the sender got through to everybody, per second


class Room:
    """N listener sockets (spread over one or more servers) and a sender on the first server."""

    def __init__(self, urls: list[str], clients: int, room: str) -> None:
        self.urls = urls
        self.clients = clients
        self.room = room
        self.listeners: list[ClientConnection] = []
        self.sender: ClientConnection | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._latencies: list[float] = []
        self._pending = 0
        self._all_in = asyncio.Event()

    async def open(self) -> None:
        async with httpx2.AsyncClient(base_url=self.urls[0]) as http:
            # One user name for every listener: each join then costs O(1) frames instead of a
            # presence delta to everybody already there (that join storm is not what we measure).
            token = (await http.post("/session", json={"name": "bench"})).json()["token"]
            sender_token = (await http.post("/session", json={"name": "sender"})).json()["token"]
        gate = asyncio.Semaphore(50)  # connect in parallel, but don't stampede the accept queue

        async def join(i: int) -> ClientConnection:
            async with gate:
                url = ws_url(self.urls[i % len(self.urls)], token)
                ws = await connect(url, compression=None, max_queue=None)
                await ws.recv()  # welcome
                await ws.send(json.dumps({"type": "join", "room": self.room}))
                while json.loads(await ws.recv())["type"] != "history":
                    pass
                return ws

        self.listeners = list(await asyncio.gather(*(join(i) for i in range(self.clients))))
        self.sender = await connect(ws_url(self.urls[0], sender_token), compression=None)
        await self.sender.recv()
        await self.sender.send(json.dumps({"type": "join", "room": self.room}))
        self._readers = [asyncio.create_task(self._read(ws)) for ws in self.listeners]
        self._readers.append(asyncio.create_task(self._drain(self.sender)))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame["type"] == "message":
                    self._latencies.append(now - float(frame["text"]))
                    self._pending -= 1
                    if self._pending == 0:
                        self._all_in.set()

    async def _drain(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    async def round(self, messages: int) -> Round:
        """Send `messages` one at a time, each after everybody got the previous one."""
        assert self.sender is not None
        self._latencies.clear()
        started = time.perf_counter()
        for _ in range(messages):
            self._pending = self.clients
            self._all_in.clear()
            text = repr(time.perf_counter())
            await self.sender.send(json.dumps({"type": "message", "room": self.room, "text": text}))
            await asyncio.wait_for(self._all_in.wait(), timeout=60)
        elapsed = time.perf_counter() - started
        ms = sorted(x * 1000 for x in self._latencies)
        return Round(
            p50_ms=statistics.median(ms),
            p99_ms=ms[min(len(ms) - 1, int(len(ms) * 0.99))],
            deliveries_per_s=len(ms) / elapsed,
            messages_per_s=messages / elapsed,
        )

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        sockets = [*self.listeners, *([self.sender] if self.sender else [])]
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        await asyncio.gather(*self._readers, return_exceptions=True)
