"""What every part of the demo shares: the events it sends, and how it talks and waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from messaging.events import OrderEvent

EVENTS = [
    OrderEvent(kind="created", order_id=1, product_id=1, quantity=2),
    OrderEvent(kind="created", order_id=2, product_id=3),
    OrderEvent(kind="paid", order_id=1, product_id=1, quantity=2),
    OrderEvent(kind="created", order_id=3, product_id=99),  # no product 99: the poison order
    OrderEvent(kind="paid", order_id=2, product_id=3),
    OrderEvent(kind="shipped", order_id=1, product_id=1, quantity=2),
]


def say(text: str) -> None:
    print(text, flush=True)


async def until(condition: Callable[[], bool | Awaitable[bool]], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = condition()
        if result if isinstance(result, bool) else await result:
            return True
        await asyncio.sleep(0.02)
    return False
