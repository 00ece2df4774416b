"""Edge middleware: request id, ``Server-Timing`` and one structured access-log line per request.

Pure ASGI rather than ``BaseHTTPMiddleware``: it adds no extra task per request and never
buffers, so streamed bodies pass through untouched.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("gateway.access")

# Accept a caller's id only if it is short and boring: it ends up in logs and other services.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_from(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_ID.match(candidate):
                return candidate
    # 128 random bits, as hex. Not uuid4(): that reads the OS's entropy (a system call) per
    # request, and an id to find log lines by needs no cryptographic strength.
    return f"{random.getrandbits(128):032x}"


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, log_requests: bool = True) -> None:
        self.app, self.log_requests = app, log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"] = rid = request_id_from(scope)
        status = 500  # what the client gets if the app dies before answering

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                # Time to first byte; upstream time is set by the proxy when it got headers.
                timing = f"total;dur={(time.perf_counter() - start) * 1000:.1f}"
                if (upstream_ms := state.get("upstream_ms")) is not None:
                    timing = f"upstream;dur={upstream_ms:.1f}, {timing}"
                headers.append("Server-Timing", timing)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if self.log_requests:
                # One JSON object per line: greppable by eye, parseable by a log pipeline.
                line = {
                    "request_id": rid,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "client": state.get("client_name"),
                    "upstream": state.get("upstream_instance"),
                    "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                }
                access_log.info(json.dumps(line))


class GzipWhenAsked(GZipMiddleware):
    """Starlette's gzip middleware wraps every response, also for clients that did not ask for
    gzip (it then only adds ``Vary: Accept-Encoding`` to large answers). Most of a gateway's
    callers are programs that do not ask; their requests skip the wrapper entirely."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(
            name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"]
        ):
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)
