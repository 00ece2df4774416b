"""Redis pub/sub: fire-and-forget fan-out.

PUBLISH hands the message to every client subscribed *right now* and returns how many that
was. Nothing is stored: a subscriber that is disconnected, restarting or not yet subscribed
never sees it, and there is no acknowledgement. A subscriber that reads too slowly is cut off
by Redis once its output buffer passes `client-output-buffer-limit pubsub` (32 MB by
default), losing what was queued. Use it for signals where the latest one is what counts
(cache invalidation hints, presence, "something changed, re-read it").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub


async def publish(redis: Redis, channel: str, message: str) -> int:
    """Send to the current subscribers; the answer is how many received it (0 = lost)."""
    return int(await redis.publish(channel, message))


@asynccontextmanager
async def subscription(
    redis: Redis, *, channels: tuple[str, ...] = (), patterns: tuple[str, ...] = ()
) -> AsyncIterator[PubSub]:
    """Subscribed to exact channels and glob patterns (`orders.*`) until the block ends."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    try:
        if channels:
            await pubsub.subscribe(*channels)
        if patterns:
            await pubsub.psubscribe(*patterns)
        yield pubsub
    finally:
        await pubsub.aclose()


async def receive(pubsub: PubSub, count: int, within: float) -> list[tuple[str, str]]:
    """Up to `count` (channel, message) pairs, waiting at most `within` seconds in all."""
    got: list[tuple[str, str]] = []
    deadline = time.monotonic() + within
    while len(got) < count and (left := deadline - time.monotonic()) > 0:
        message = await pubsub.get_message(timeout=min(left, 0.05))
        if message is None:
            await asyncio.sleep(0)
            continue
        got.append((str(message["channel"]), str(message["data"])))
    return got
