"""Run an ASGI app with uvicorn in a background thread, on a port of your choice or any free one.

main.py, the tests and the demo use it to start real servers in-process. Port 0 asks the OS
for a free port, so runs never collide; binding the socket ourselves lets us read that port
before uvicorn starts and restart a server on the very same port later.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


class ServerThread:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app, self.host, self.port = app, host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        # Bound to every interface: this machine still reaches it on the loopback address.
        host = "127.0.0.1" if self.host == "0.0.0.0" else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> ServerThread:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # SO_REUSEADDR: a restarted server may bind the port its predecessor just left,
        # while old connections still sit in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
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

    def stop(self, timeout_s: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._server = self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
