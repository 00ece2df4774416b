"""Run an ASGI app with uvicorn in a background thread, on a port of your choice or any free one.

main.py, the tests and the demo use it to start real servers in-process. Port 0 asks the OS
for a free port, so runs never collide; binding the socket ourselves lets us read that port
before uvicorn starts.

A stopped server can be restarted on the very same port (the demo and the tests "kill" a
service and bring it back). Closing the port and binding it again would leave a gap in which
any other program may take it; instead a second socket holds the port the whole time. It is
bound but never listens, so while the server is down a client's connection is refused, as it
would be for a dead process. Both sockets set ``SO_REUSEPORT`` (Linux, macOS, BSD), which
lets them share the port while every other program (without that option) is kept out.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

# Not on Windows: there a restart binds the port again and may, rarely, find it taken.
SHARE_PORT: int | None = getattr(socket, "SO_REUSEPORT", None)


class ServerThread:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app, self.host, self.port = app, host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._hold: socket.socket | None = None  # keeps the port while the server is down

    @property
    def url(self) -> str:
        # Bound to every interface: this machine still reaches it on the loopback address.
        host = "127.0.0.1" if self.host == "0.0.0.0" else self.host
        return f"http://{host}:{self.port}"

    def _bind(self) -> socket.socket:
        if self._hold is None and SHARE_PORT is not None:
            hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            hold.setsockopt(socket.SOL_SOCKET, SHARE_PORT, 1)
            try:
                hold.bind((self.host, self.port))
            except OSError:
                hold.close()
                raise
            self._hold, self.port = hold, hold.getsockname()[1]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # SO_REUSEADDR: a restarted server may bind the port its predecessor just left,
        # while old connections still sit in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if SHARE_PORT is not None:
            sock.setsockopt(socket.SOL_SOCKET, SHARE_PORT, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            self._release()
            raise
        self.port = sock.getsockname()[1]
        return sock

    def start(self, timeout_s: float = 10.0) -> ServerThread:
        sock = self._bind()
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default and then reports the
            # forwarded address as the client. The gateway IS the edge: it must see the real
            # peer, or any local caller could claim any address.
            proxy_headers=False,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        # Wait for a condition (uvicorn says it started), not for a fixed time.
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server on {self.url} did not start within {timeout_s} s")
            time.sleep(0.005)
        return self

    def request_stop(self) -> None:
        """Ask uvicorn to finish (it notices within ~0.1 s); ``stop`` also waits for it."""
        if self._server is not None:
            self._server.should_exit = True

    def stop(self, timeout_s: float = 10.0, keep_port: bool = False) -> None:
        """Stop serving. ``keep_port`` holds the port for ``restart``; otherwise it is freed."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._server = self._thread = None
        if not keep_port:
            self._release()

    def restart(self, app: Any | None = None) -> ServerThread:
        """Serve again on the same port, with a fresh ``app`` if given (a new process's state)."""
        self.stop(keep_port=True)
        if app is not None:
            self.app = app
        return self.start()

    def _release(self) -> None:
        if self._hold is not None:
            self._hold.close()
            self._hold = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
