"""The HTTP client behind a `Get`: aiohttp by default, httpx and httpx2 to compare.

Concurrency hides waiting, never work: every request still costs the client CPU to build,
send, parse and pool-manage, and with 100 requests in flight that CPU, not the network, sets
the pace. Measured here (bench.py) aiohttp needs several times less CPU per request than
httpx, so it is the client of the hot path; httpx stays a fine choice for scripts and tests.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from asyncio_patterns.fetch import Get

Client = Literal["aiohttp", "httpx", "httpx2"]
CLIENTS: tuple[Client, ...] = ("aiohttp", "httpx", "httpx2")
TIMEOUT_S = 30.0  # for the whole request, connect to last byte


@asynccontextmanager
async def open_client(kind: Client, concurrency: int) -> AsyncIterator[Get]:
    """One pooled client for the whole run; its pool allows `concurrency` connections."""
    if kind == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=concurrency)
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def get(url: str) -> int:
                async with session.get(url) as response:
                    await response.read()  # the body too: the connection goes back to the pool
                    return response.status

            yield get
    elif kind in ("httpx", "httpx2"):
        # httpx2 is a fork of httpx with the same API, so one branch serves both.
        lib: Any = importlib.import_module(kind)
        limits = lib.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with lib.AsyncClient(limits=limits, timeout=lib.Timeout(TIMEOUT_S)) as client:

            async def get(url: str) -> int:
                return (await client.get(url)).status_code

            yield get
    else:
        raise ValueError(f"unknown client {kind!r}; expected one of {CLIENTS}")
