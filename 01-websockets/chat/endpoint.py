"""The WebSocket endpoint: handshake authentication, then three tasks per connection.

    reader     receives frames, enforces size, hands them to the hub
    writer     drains this connection's outbox onto the socket (connection.py)
    heartbeat  pings on an interval, drops the client when it goes silent

Whichever ends first (client gone, server decision, error) ends the other two, and the
`finally` below always runs the same cleanup: presence is never left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected

from .connection import (
    INTERNAL_ERROR,
    POLICY_VIOLATION,
    TOO_BIG,
    TRY_AGAIN_LATER,
    Connection,
)
from .hub import Hub
from .protocol import Welcome
from .ratelimit import TokenBucket
from .settings import Settings
from .tokens import TokenError, read_token

log = logging.getLogger(__name__)


async def chat_socket(
    websocket: WebSocket, token: str | None, hub: Hub, settings: Settings
) -> None:
    # Accept first, then refuse with 1008: a browser never sees the HTTP status of a rejected
    # handshake (only "1006, abnormal"), but it does see a close code and reason.
    await websocket.accept()
    try:
        user = read_token(token, settings.secret)
    except TokenError as exc:
        await websocket.close(code=POLICY_VIOLATION, reason=str(exc))
        return

    bucket = TokenBucket(settings.rate_per_second, settings.rate_burst)
    conn = Connection(websocket, user, settings.send_queue, bucket)
    try:
        await hub.connect(conn)
    except Exception:
        # The broker (Redis) is down or refused: the hub has already forgotten the socket.
        # 1013 "try again later" tells the client this is temporary and worth a retry.
        log.exception("%r: could not register with the %s broker", conn, hub.backplane.name)
        reason = "broker unavailable, try again later"
        await _close(websocket, TRY_AGAIN_LATER, reason, settings.close_timeout)
        return
    conn.send(Welcome(user=user, heartbeat=settings.heartbeat_interval).model_dump_json())
    log.info("%r connected", conn)

    tasks = [
        asyncio.create_task(read_loop(conn, hub, settings.max_frame_bytes)),
        asyncio.create_task(conn.write_loop()),
        asyncio.create_task(
            heartbeat(conn, settings.heartbeat_interval, settings.heartbeat_timeout)
        ),
        asyncio.create_task(conn.closing.wait()),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        try:
            # asyncio.wait, not gather: it never raises for the children, and if *we* are being
            # cancelled it re-raises our own cancellation untouched (gather would mint a new one).
            await asyncio.wait(tasks)
        finally:
            _note_crash(conn, [t.exception() for t in tasks if t.done() and not t.cancelled()])
            reason = conn.close_reason or "disconnect"
            await hub.disconnect(conn, reason)
            # After disconnect: from here on no frame can reach this connection, so the
            # count of dropped frames is final.
            conn.discard_outbox()
            log.info("%r disconnected: %s (%d frames dropped)", conn, reason, conn.dropped)
    if conn.close_code is not None:
        await _close(websocket, conn.close_code, conn.close_message(), settings.close_timeout)


async def read_loop(conn: Connection, hub: Hub, max_bytes: int) -> None:
    """Receive until the client leaves; returns normally on a client-side close."""
    websocket = conn.websocket
    while True:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            return
        conn.last_seen = time.monotonic()  # any frame proves the client is alive
        text = event.get("text")
        if text is None:
            # Refused, but paid for like any frame: a binary flood must not be free.
            if conn.pay("a binary frame"):
                conn.send_error("bad_frame", "binary frames are not part of this protocol")
            continue
        # The server (uvicorn ws_max_size) already refuses huge frames before buffering them;
        # this check keeps the rule the same under any ASGI server and in tests.
        if len(text) > max_bytes or len(text.encode()) > max_bytes:
            conn.request_close(TOO_BIG, f"frame larger than {max_bytes} bytes")
            return
        await hub.handle(conn, text)


async def heartbeat(
    conn: Connection,
    interval: float,
    silence_limit: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Application-level ping: visible to the browser client, which cannot see protocol pings."""
    while True:
        started = clock()
        await sleep(interval)
        now = clock()
        # Waking up late means the whole event loop was stalled (a GC pause, a starved CPU):
        # no frame could be read meanwhile either, so that silence is the server's, not the
        # client's. Without this, one long stall would drop every client at once.
        late = now - started - interval
        if late > 0:
            conn.last_seen = min(now, conn.last_seen + late)
        silent = now - conn.last_seen
        if silent > silence_limit:
            conn.request_close(INTERNAL_ERROR, "heartbeat timeout")
            return
        conn.ping()


def _note_crash(conn: Connection, outcomes: list[BaseException | None]) -> None:
    """A bug in a task must not vanish: log it and close with 1011."""
    for outcome in outcomes:
        if outcome is None or isinstance(
            outcome, (WebSocketDisconnect, WebSocketDisconnected, OSError)
        ):
            continue
        log.error("%r crashed", conn, exc_info=outcome)
        conn.request_close(INTERNAL_ERROR, "internal error")


async def _close(websocket: WebSocket, code: int, reason: str, grace: float) -> None:
    # A slow client's socket may not accept even the close frame; don't wait for it forever.
    with contextlib.suppress(TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
        await asyncio.wait_for(websocket.close(code=code, reason=reason), grace)
