"""Small upstream apps for fault injection: they count, echo, fail or hang on request."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from demo.serving import ServerThread
from gateway.settings import Route


@dataclass
class Behaviour:
    """Shared by the test (main thread) and the server thread: plain counters and flags."""

    name: str = "probe"
    fail_first: int = 0  # answer fail_status to this many echo requests first
    fail_status: int = 503
    unhealthy: bool = False  # /health answers 503 while set
    calls: int = 0
    release: threading.Event = field(default_factory=threading.Event)


def probe_app(behaviour: Behaviour) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> Response:
        return Response(status_code=503 if behaviour.unhealthy else 200)

    @app.api_route("/echo/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def echo(request: Request) -> Response:
        behaviour.calls += 1
        if behaviour.calls <= behaviour.fail_first:
            return Response(
                status_code=behaviour.fail_status, headers={"X-Instance": behaviour.name}
            )
        try:
            body = await request.body()
        except ClientDisconnect:
            # The gateway hung up mid-upload because its client did: nobody is left to answer.
            return Response(status_code=499)
        seen = {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode("latin-1"),
            "query": request.url.query,
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "headers": dict(request.headers.items()),
        }
        response = JSONResponse(seen, headers={"X-Instance": behaviour.name})
        # Things a proxy must handle: a hop-by-hop header named by Connection, and a repeated
        # header (two cookies) that must not be merged into one.
        response.headers["Connection"] = "x-hop"
        response.headers["X-Hop"] = "for this connection only"
        response.raw_headers.append((b"set-cookie", b"a=1"))
        response.raw_headers.append((b"set-cookie", b"b=2"))
        return response

    @app.get("/big/{size}")
    async def big(size: int) -> Response:
        return Response(b"x" * size, media_type="application/octet-stream")

    @app.get("/hang")
    async def hang() -> dict[str, str]:
        # Holds the request until the test releases it: far beyond any route's budget.
        await asyncio.to_thread(behaviour.release.wait, 60)
        return {"status": "late"}

    return app


# Headers that promise 500 bytes, then 3 bytes and a hang-up: an upstream dying mid-answer.
CUT_SHORT = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nabc"
# A complete, well-formed answer whose body is not the JSON it claims to be.
NOT_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nnotjs"


def json_answer(value: object) -> bytes:
    """A well-formed 200 with a JSON body: valid HTTP, valid JSON, whatever shape is given."""
    body = json.dumps(value).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


# Promises 6 bytes and sends them one at a time (``drip``): each read is quick, the whole is not.
DRIP_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\n"


class BrokenUpstream:
    """A raw TCP server that answers every request with fixed bytes and hangs up: answers no
    HTTP framework would send, which is the point. With ``drip`` it then sends those bytes one
    every ``every_s`` seconds. Use it as a context manager."""

    def __init__(self, answer: bytes, drip: bytes = b"", every_s: float = 0.8) -> None:
        self.answer, self.drip, self.every_s = answer, drip, every_s
        self._listener = socket.create_server(("127.0.0.1", 0))
        # accept() wakes up this often to notice the stop flag: closing a socket from another
        # thread does not reliably interrupt a blocked accept().
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="broken-upstream", daemon=True)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)  # the request; its content does not matter
                    conn.sendall(self.answer)
                    for byte in self.drip:
                        if self._stop.wait(self.every_s):  # not a sleep: teardown ends it
                            break
                        conn.sendall(bytes([byte]))
                except OSError:
                    pass  # the gateway gave up first: nothing to answer

    def __enter__(self) -> BrokenUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()


def echo_gateway(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    **settings: object,
) -> ServerThread:
    """A probe upstream behind a gateway on two routes, /echo and /big."""
    upstream = serve(probe_app(Behaviour(name="echo-1")))
    return start_gateway(
        routes=[
            Route(name="echo", prefix="/echo", instances=[upstream.url]),
            Route(name="big", prefix="/big", instances=[upstream.url]),
        ],
        **settings,
    )
