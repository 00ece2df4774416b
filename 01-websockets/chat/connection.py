"""One client connection: its identity, its rooms and its own bounded outbox.

The outbox is the heart of slow-consumer handling. Fan-out only *enqueues* (never awaits a
socket), and a per-connection writer task drains the queue at whatever pace that client reads.
A client that stops reading fills only its own queue; when it is full the client is cut off
instead of making the server buffer without limit or making everybody else wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from fastapi import WebSocket

from .protocol import Error, Ping
from .ratelimit import TokenBucket

log = logging.getLogger(__name__)

# Close codes (RFC 6455 section 7.4.1).
POLICY_VIOLATION = 1008  # bad or missing token
TOO_BIG = 1009  # inbound frame over the size limit
INTERNAL_ERROR = 1011  # also used for heartbeat timeouts, as the websockets library does
TRY_AGAIN_LATER = 1013  # outbox overflow: the client reads too slowly


class Connection:
    def __init__(
        self, websocket: WebSocket, user: str, queue_size: int, bucket: TokenBucket
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.user = user
        self.websocket = websocket
        self.rooms: set[str] = set()
        self.bucket = bucket
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self.last_seen = time.monotonic()
        # Set once the server decides to end this connection; the endpoint waits on it.
        self.closing = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        # Frames this client will never get: refused once it is closing, or still in the
        # outbox when it was cut off. The close frame reports the number, so a loss is visible.
        self.dropped = 0
        # A ping went out and its pong has not come back: that one pong is free of the rate
        # limit, so a well-behaved client is never refused for answering the heartbeat.
        self.pong_due = False

    def __repr__(self) -> str:
        return f"<Connection {self.user}/{self.id}>"

    def send(self, frame: str) -> bool:
        """Queue a serialised frame without waiting; False if this client was cut off."""
        if self.closing.is_set():
            self.dropped += 1
            return False
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("%r: outbox full (%d frames), disconnecting", self, self.outbox.maxsize)
            self.request_close(TRY_AGAIN_LATER, "slow consumer")
            self.dropped += 1
            return False
        return True

    def pay(self, what: str) -> bool:
        """Spend one token of the rate limit on an inbound frame. When none is left the frame
        is refused and the client is told which one: nothing is dropped silently."""
        if self.bucket.take():
            return True
        self.send_error("rate_limited", f"too many frames; {what} was not processed")
        return False

    def ping(self) -> None:
        if self.send(Ping().model_dump_json()):
            self.pong_due = True

    def send_error(self, code: str, detail: str) -> None:
        self.send(Error(code=code, detail=detail).model_dump_json())

    def request_close(self, code: int, reason: str) -> None:
        """Ask the endpoint to end this connection; the first reason given wins."""
        if not self.closing.is_set():
            self.close_code, self.close_reason = code, reason
            self.closing.set()

    def discard_outbox(self) -> None:
        """Count what the writer never sent; called once the writer has stopped."""
        self.dropped += self.outbox.qsize()
        while not self.outbox.empty():
            self.outbox.get_nowait()

    def close_message(self) -> str:
        """The reason sent in the close frame: why, and how many frames the client lost."""
        if self.dropped:
            return f"{self.close_reason}: {self.dropped} frames dropped"
        return self.close_reason

    async def write_loop(self) -> None:
        """Drain the outbox onto the socket. Runs as its own task, one per connection."""
        while True:
            frame = await self.outbox.get()
            try:
                # Back-pressure lands here: this await lasts as long as this client is slow,
                # and it blocks nobody but this connection.
                await self.websocket.send_text(frame)
            except asyncio.CancelledError:
                # uvicorn waits for the socket to be writable *before* writing, so a send
                # cancelled while it waits never reached the client: count it with the rest.
                self.dropped += 1
                raise
