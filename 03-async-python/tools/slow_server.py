"""A tiny HTTP/1.1 server whose every answer takes a fixed time, like a slow upstream API.

It is written on asyncio streams (no framework) so the lesson needs no internet and so a learner
can see that one event loop serves many slow requests at once: each connection is a coroutine
that spends its wait in `asyncio.sleep`, not in a thread.

The server runs in a child process with its own event loop. That keeps it independent of the
client: when the lesson blocks the client's loop on purpose, the server keeps answering, and the
two never compete for one interpreter's GIL (a server thread in the same process would, and
every switch between them can cost up to `sys.getswitchinterval()`, 5 ms, skewing the timings).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import signal
from multiprocessing.connection import Connection
from types import TracebackType
from urllib.parse import parse_qs, urlsplit


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        # Keep-alive: one connection may carry many requests, as httpx's pool expects.
        while request_line := await reader.readline():
            method, target, _version = request_line.decode("latin-1").split(" ", 2)
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # headers are not needed; a GET has no body
            query = parse_qs(urlsplit(target).query)
            wait = float(query["delay_ms"][0]) / 1000 if "delay_ms" in query else delay
            await asyncio.sleep(wait)
            body = json.dumps({"method": method, "path": target, "delay_ms": wait * 1000}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
    except (ConnectionError, ValueError):
        pass  # a client that hangs up or sends garbage only loses its own connection
    finally:
        writer.close()


def _serve_forever(delay: float, host: str, port_out: Connection) -> None:
    """The child process: bind an ephemeral port, report it to the parent, serve until killed."""
    # Ctrl-C reaches every process of the terminal's group. The parent owns this server's
    # lifetime and terminates it on the way out, so the child ignores SIGINT instead of
    # dying mid-answer with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    async def serve() -> None:
        server = await asyncio.start_server(
            lambda r, w: _handle(r, w, delay), host, 0, backlog=1024
        )
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


class SlowServer:
    """Context manager: `with SlowServer(delay=0.2) as server: server.url`."""

    def __init__(
        self, delay: float = 0.2, host: str = "127.0.0.1", start_timeout: float = 10.0
    ) -> None:
        self.delay = delay
        self.host = host
        self.start_timeout = start_timeout
        self.port = 0  # an ephemeral port, chosen on start, so lessons can run side by side
        self._process: multiprocessing.Process | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server process's id, so bench.py can read its CPU time from /proc."""
        return None if self._process is None else self._process.pid

    def __enter__(self) -> SlowServer:
        receive, send = multiprocessing.Pipe(duplex=False)
        self._process = multiprocessing.Process(
            target=_serve_forever, args=(self.delay, self.host, send), daemon=True
        )
        try:
            self._process.start()
            # The child has its own copy of the send end now. Closing ours leaves the child's
            # as the only one, so a child that dies before it reports makes poll() see end of
            # file at once instead of waiting out the timeout; and no descriptor leaks.
            send.close()
            if not receive.poll(timeout=self.start_timeout):
                raise RuntimeError(f"the slow server did not start within {self.start_timeout} s")
            try:
                self.port = receive.recv()
            except EOFError:
                self._process.join(timeout=5)
                code = self._process.exitcode
                raise RuntimeError(
                    f"the slow server exited (code {code}) before it reported its port"
                ) from None
        except BaseException:
            self._stop()
            raise
        finally:
            send.close()  # a no-op when already closed; here for a start() that raised
            receive.close()
        return self

    def _stop(self) -> None:
        if self._process is None:
            return
        # SIGTERM ends the child at once; the OS closes its sockets, keep-alive ones included.
        self._process.terminate()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        # close() releases the two pipe descriptors multiprocessing keeps to watch the child;
        # without it they stay open until the garbage collector finds the Process object.
        self._process.close()
        self._process = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()
