"""Serve the app as a task in the current event loop (the demo and the tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chat.server import bind, make_server
from chat.settings import Settings


@asynccontextmanager
async def running_server(
    settings: Settings, log_level: str = "warning", *, send_buffer: int | None = None
) -> AsyncIterator[str]:
    """Serve in the current event loop; yields the base URL; always stops the server."""
    sock = bind(settings.host, settings.port, send_buffer)
    server = make_server(settings, log_level)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    await task
                    raise RuntimeError("server stopped during startup (see the log above)")
                await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
