"""A bulkhead: a separate concurrency limit per dependency, with a short queue, failing fast.

Without one, every call shares the same workers (here: the HTTP client's connection pool).
When one dependency turns slow, its calls hold every connection and the calls to a healthy
dependency queue behind them: one slow service takes the whole API down. With a bulkhead
the slow dependency can hold at most ``max_concurrent`` slots; the next caller is refused at
once (``BulkheadFull``, a 503 for the client) instead of waiting for a slot that is not coming.

Server-side load shedding (``resilience/shedding.py``) uses the same gate around a whole server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class BulkheadFull(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name}: no free slot and the queue is full")
        self.name = name


class Bulkhead:
    def __init__(self, name: str, max_concurrent: int, max_queue: int = 0) -> None:
        if max_concurrent < 1 or max_queue < 0:
            raise ValueError("need max_concurrent >= 1 and max_queue >= 0")
        self.name, self.max_concurrent, self.max_queue = name, max_concurrent, max_queue
        self._free = asyncio.Semaphore(max_concurrent)
        self.active = self.waiting = self.rejected = 0

    async def acquire(self) -> None:
        # Refuse before waiting: a full queue means the wait would not be short.
        if self._free.locked() and self.waiting >= self.max_queue:
            self.rejected += 1
            raise BulkheadFull(self.name)
        self.waiting += 1
        try:
            await self._free.acquire()  # a cancelled waiter leaves no slot taken
        finally:
            self.waiting -= 1
        self.active += 1

    def release(self) -> None:
        self.active -= 1
        self._free.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()
