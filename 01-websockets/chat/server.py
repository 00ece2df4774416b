"""Run the app under uvicorn, in the foreground (main.py) or as a task (demo, tests, bench)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from .app import create_app
from .settings import Settings


def bind(host: str, port: int, send_buffer: int | None = None) -> socket.socket:
    """Bind the listening socket ourselves: port 0 then gives a free port we can read back,
    and "address in use" surfaces here as an OSError we can explain in one line.

    `send_buffer` caps the kernel send buffer of every accepted socket (Linux copies it from
    the listener). Unset, the kernel autotunes it up to net.ipv4.tcp_wmem (4 MB by default)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def make_server(settings: Settings, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings),
        log_level=log_level,
        lifespan="on",
        # The protocol layer refuses oversize frames with 1009 before they are buffered.
        ws_max_size=settings.max_frame_bytes,
        # Liveness is the app's heartbeat (endpoint.py); one mechanism is easier to reason about.
        ws_ping_interval=None,
        # permessage-deflate compresses each frame once *per connection*: it would undo the
        # "serialise once" saving of a fan-out and cost CPU per recipient.
        ws_per_message_deflate=False,
    )
    return uvicorn.Server(config)


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
