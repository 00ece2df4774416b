"""Small waits for the RabbitMQ tests: poll for a condition with a deadline, never sleep long."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue


async def get_one(queue: AbstractQueue, within: float = 5.0) -> AbstractIncomingMessage:
    """The next message of the queue (unacked: the caller acks it), waiting up to `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        message = await queue.get(fail=False, no_ack=False)
        if message is not None:
            return message
        await asyncio.sleep(0.01)
    raise AssertionError(f"nothing arrived on {queue.name} within {within} s")


async def drain(queue: AbstractQueue) -> list[AbstractIncomingMessage]:
    """Everything the queue holds right now, acked."""
    out = []
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        out.append(message)
    return out


async def until(condition: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")
