"""httpx's timeouts are per operation; a deadline is for the whole call.

``httpx.Timeout(connect=, read=, write=, pool=)`` bounds each wait on its own: connecting,
each read of the socket, each write, getting a connection from the pool. A server that
sends one byte every 50 ms never trips a 200 ms read timeout, and may take a minute to
answer. ``asyncio.timeout`` around the whole call is the deadline a caller actually means.
Use both: the per-operation ones catch a dead peer early, the deadline caps the total.
"""

from __future__ import annotations

import asyncio

import httpx


async def read_all(client: httpx.AsyncClient, url: str) -> int:
    """Stream the whole body; its size in bytes."""
    size = 0
    async with client.stream("GET", url) as response:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    return size


async def with_read_timeout(url: str, connect_s: float, read_s: float) -> int:
    """Per-operation timeouts only: a slow drip of bytes passes, however long it takes."""
    timeout = httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s)
    async with httpx.AsyncClient(timeout=timeout) as client:
        return await read_all(client, url)


async def with_deadline(url: str, connect_s: float, read_s: float, total_s: float) -> int:
    """The same, inside a deadline: TimeoutError once ``total_s`` is spent, wherever it is."""
    timeout = httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s)
    async with httpx.AsyncClient(timeout=timeout) as client, asyncio.timeout(total_s):
        return await read_all(client, url)
