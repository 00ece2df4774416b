"""The request body cap: an oversized body is refused with 413 before it is read whole."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import httpx
import pytest

from demo.serving import ServerThread
from tests.upstreams import echo_gateway

KEY = {"X-API-Key": "demo-key"}


def send_raw(port: int, head: str, body: bytes) -> bytes:
    """Send a request's head and the first part of its body, never the rest; return the
    answer. An answer at all proves the gateway decided without waiting for the whole body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(head.encode() + body)
        answer = b""
        while b"}}" not in answer:  # the end of the JSON error body
            chunk = raw.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)


@pytest.mark.parametrize(
    ("method", "framing", "first_part"),
    [
        ("PUT", "Content-Length: 50000000", b""),  # refused on the header alone
        ("PUT", "Transfer-Encoding: chunked", chunked(b"x" * 600, b"x" * 600)),  # read whole
        ("POST", "Transfer-Encoding: chunked", chunked(b"x" * 600, b"x" * 600)),  # streamed
    ],
)
def test_body_over_the_cap_is_413_before_it_is_read_whole(
    method: str,
    framing: str,
    first_part: bytes,
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
) -> None:
    gw = echo_gateway(serve, start_gateway, max_body_bytes=1000)
    head = f"{method} /echo/x HTTP/1.1\r\nHost: gw\r\nX-API-Key: demo-key\r\n{framing}\r\n\r\n"
    answer = send_raw(gw.port, head, first_part)  # 1,200 bytes sent; the end never comes
    assert answer.startswith(b"HTTP/1.1 413 ")
    error = json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]
    assert error["code"] == "body_too_large"
    assert error["message"] == "the request body is over 1000 bytes"


def test_body_at_the_cap_passes(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    gw = echo_gateway(serve, start_gateway, max_body_bytes=1000)
    for method in ("PUT", "POST"):
        r = httpx.request(method, f"{gw.url}/echo/x", headers=KEY, content=b"x" * 1000)
        assert r.status_code == 200 and r.json()["size"] == 1000
