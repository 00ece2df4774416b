"""Cancellation, timeouts, shield, async context managers and async iterators.

These are the tools that decide whether a service cleans up after itself: a cancelled request
must still release its connection, a timeout must not leave half-written state behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class Pool:
    """A stand-in for a connection pool: counts what is checked out, records what happened."""

    size: int = 2
    in_use: int = 0
    log: list[str] = field(default_factory=list)

    @asynccontextmanager
    async def connection(self, name: str) -> AsyncIterator[str]:
        # An async context manager: setup and cleanup may await (network round trips),
        # and the cleanup runs on success, error and cancellation alike.
        if self.in_use >= self.size:
            raise RuntimeError("pool exhausted")
        self.in_use += 1
        # The slot is ours from here on, so everything after this line sits inside try:
        # a cancellation that lands while the connection is still opening must give it back too.
        try:
            await asyncio.sleep(0)  # pretend to open a connection: an await, so a cancel point
            self.log.append(f"open {name}")
            yield f"conn-{name}"
        finally:
            self.in_use -= 1
            self.log.append(f"release {name}")


async def query(pool: Pool, name: str, released: asyncio.Event | None = None) -> str:
    """Holds a connection until `released` is set: a slow query we can cancel or time out."""
    async with pool.connection(name) as conn:
        if released is not None:
            await released.wait()
        return f"{conn}: ok"


async def with_timeout(pool: Pool, seconds: float) -> str:
    """asyncio.timeout() cancels the block's work when time runs out and raises TimeoutError."""
    try:
        async with asyncio.timeout(seconds):
            return await query(pool, "slow", released=asyncio.Event())  # never released
    except TimeoutError:
        return "timed out"


async def shielded_commit(journal: list[str], gate: asyncio.Event) -> None:
    """A commit that must finish even if the request that started it is cancelled."""

    async def commit() -> None:
        await gate.wait()
        journal.append("committed")

    # shield() protects the inner task from the caller's cancellation: the caller still gets
    # CancelledError, but the commit task runs to the end. Every wait on it goes through
    # shield(): a plain `await inner` after the first cancel would let a second cancel (a
    # shutdown after a client disconnect) reach the commit and kill it half-way.
    inner = asyncio.create_task(commit())
    cancelled: asyncio.CancelledError | None = None
    while not inner.done():
        try:
            await asyncio.shield(inner)
        except asyncio.CancelledError as exc:
            if inner.cancelled():  # the commit itself was cancelled, not us: nothing to wait for
                raise
            if cancelled is None:
                journal.append("caller cancelled, commit continues")
            cancelled = exc
    if cancelled is not None:
        raise cancelled  # the caller asked to stop; it learns so once the commit is safe
    inner.result()  # a commit that failed raises here


async def paginate(fetch_page: Callable[[int], list[int]], page_size: int) -> AsyncIterator[int]:
    """An async generator: yields items page by page and fetches the next page only on demand."""
    page = 0
    while True:
        await asyncio.sleep(0)  # stands in for the network round trip of one page
        items = fetch_page(page)
        for item in items:
            yield item
        if len(items) < page_size:
            return
        page += 1
