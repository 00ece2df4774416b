"""The uvicorn server for the app: our own listening socket and the WebSocket options."""

from __future__ import annotations

import copy
import logging
import re
import socket
from typing import Any

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


# The value of every query parameter in a logged path: "/ws?token=eyJ..." -> "/ws?token=[redacted]".
_QUERY_VALUE = re.compile(r"([?&][^=&#\s]*=)[^&#\s]*")


class HideQueryValues(logging.Filter):
    """uvicorn logs every request path with its query string, and `/ws?token=...` carries a
    session token: whoever reads the log could replay it until it expires. The path stays
    (it is what an operator needs), the values go."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_hide_values(arg) for arg in record.args)
        return True


def _hide_values(arg: object) -> object:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return _QUERY_VALUE.sub(r"\1[redacted]", arg)
    return arg


def log_config() -> dict[str, Any]:
    """uvicorn's own logging setup, with the filter on both loggers that print paths: the
    access log (HTTP) and uvicorn.error (the WebSocket handshake lines)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"hide_query_values": {"()": HideQueryValues}}
    for name in ("uvicorn.access", "uvicorn.error"):
        config["loggers"][name]["filters"] = ["hide_query_values"]
    return config


def make_server(settings: Settings, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings),
        log_level=log_level,
        log_config=log_config(),
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
