"""Server-side load shedding: answer 503 at once when the queue is already long.

A server that accepts every request under overload queues them; each waits longer than its
client will, so the server ends up doing only work whose answer nobody reads (every request
times out, and the retries make the queue longer). Refusing the excess early keeps the
latency of the requests it does take, and a 503 with ``Retry-After`` tells the client when to
come back. It is a bulkhead around the whole server: ``max_in_flight`` handlers run, at most
``max_queue`` wait, the rest are shed.

A pure ASGI middleware: it wraps the app below it without buffering or a task per request.
"""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from resilience.bulkhead import Bulkhead, BulkheadFull

ARRIVED = "arrived_at"  # key in the ASGI scope's state: time.monotonic() at arrival


class LoadShedding:
    def __init__(
        self,
        app: ASGIApp,
        max_in_flight: int,
        max_queue: int,
        retry_after_s: int = 1,
        exempt: tuple[str, ...] = ("/health",),
    ) -> None:
        self.app, self.retry_after_s, self.exempt = app, retry_after_s, exempt
        self.gate = Bulkhead("server", max_in_flight, max_queue)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Health checks skip the queue: an overloaded server is still alive, and a load
        # balancer that restarted it for being busy would make the overload worse.
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        # When the request arrived: its deadline runs from here, queueing included.
        scope.setdefault("state", {})[ARRIVED] = time.monotonic()
        try:
            await self.gate.acquire()
        except BulkheadFull:
            await self._shed(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.release()

    async def _shed(self, send: Send) -> None:
        body = json.dumps(
            {"error": {"code": "overloaded", "message": "server is overloaded, retry later"}}
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(self.retry_after_s).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
