"""Routing and what the proxy does to headers and bodies, against real upstream servers."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from collections.abc import Callable, Iterator

import httpx
import pytest

from demo.serving import ServerThread
from gateway import proxy
from tests.conftest import wait_for
from tests.upstreams import echo_gateway

KEY = {"X-API-Key": "demo-key"}


def test_each_prefix_reaches_its_service(gateway: httpx.Client) -> None:
    assert gateway.get("/users/1").headers["x-instance"] == "users-1"
    assert gateway.get("/orders/1").headers["x-instance"] == "orders-1"
    assert gateway.get("/products/1").headers["x-instance"].startswith("catalog-")


def test_query_string_and_status_pass_through(gateway: httpx.Client) -> None:
    page = gateway.get("/products", params={"limit": 1, "offset": 2})
    assert page.json()["items"][0]["sku"] == "MN-03"
    missing = gateway.get("/users/999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_unknown_prefix_is_404_from_the_gateway(gateway: httpx.Client) -> None:
    # /usersx must not match /users: prefixes match whole path segments.
    for path in ("/nothing/here", "/usersx"):
        r = gateway.get(path)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "no_route"


def test_round_robin_over_instances(gateway: httpx.Client) -> None:
    seen = [gateway.get("/products/1").headers["x-instance"] for _ in range(4)]
    assert sorted(seen) == ["catalog-1", "catalog-1", "catalog-2", "catalog-2"]
    assert seen[0] != seen[1]


def test_request_headers_forwarded_stripped_and_added(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    gw = echo_gateway(serve, start_gateway)
    sent = {
        **KEY,
        "X-Custom": "kept",
        "Connection": "keep-alive, x-private",
        "X-Private": "hop-by-hop because Connection names it",
        "X-Client-Id": "admin",  # spoofing attempt
        "X-Forwarded-For": "6.6.6.6",  # spoofing attempt
        "X-Request-ID": "trace-abc.123",
    }
    r = httpx.get(f"{gw.url}/echo/x?a=1", headers=sent)
    seen = r.json()["headers"]
    assert seen["x-custom"] == "kept"
    assert "x-private" not in seen and "x-api-key" not in seen
    assert seen["x-client-id"] == "demo"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"] == gw.url.removeprefix("http://")
    assert seen["x-request-id"] == r.headers["x-request-id"] == "trace-abc.123"
    assert r.json()["query"] == "a=1"


def test_request_id_created_when_absent_or_unsafe(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    gw = echo_gateway(serve, start_gateway)
    made = httpx.get(f"{gw.url}/echo/x", headers=KEY)
    unsafe = httpx.get(f"{gw.url}/echo/x", headers={**KEY, "X-Request-ID": "bad id\twith tab"})
    for r in (made, unsafe):
        rid = r.headers["x-request-id"]
        assert len(rid) == 32 and rid == r.json()["headers"]["x-request-id"]
    assert made.headers["x-request-id"] != unsafe.headers["x-request-id"]


def test_response_headers_cleaned_but_repeats_kept(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    gw = echo_gateway(serve, start_gateway)
    r = httpx.get(f"{gw.url}/echo/x", headers=KEY)
    assert "x-hop" not in r.headers
    assert r.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert len(r.headers.get_list("server")) == 1
    assert r.headers["ratelimit-limit"] == "1000"
    timing = r.headers["server-timing"]
    assert timing.startswith("upstream;dur=") and ", total;dur=" in timing


def test_large_bodies_stream_both_ways_intact(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    gw = echo_gateway(serve, start_gateway, max_body_bytes=4 * 1024 * 1024)
    payload = os.urandom(3 * 1024 * 1024)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(payload), 64 * 1024):
            yield payload[i : i + 64 * 1024]

    # A chunked upload (no Content-Length): the gateway must stream, not expect a length.
    up = httpx.post(f"{gw.url}/echo/upload", headers=KEY, content=chunks(), timeout=30)
    assert up.json()["size"] == len(payload)
    assert up.json()["sha256"] == hashlib.sha256(payload).hexdigest()
    size = 5 * 1024 * 1024
    received = 0
    plain = {**KEY, "Accept-Encoding": "identity"}  # so the length is the upstream's own
    with httpx.stream("GET", f"{gw.url}/big/{size}", headers=plain, timeout=30) as down:
        assert down.headers["content-length"] == str(size)
        for chunk in down.iter_raw():
            assert set(chunk) == {ord("x")}
            received += len(chunk)
    assert received == size


def test_gzip_for_clients_that_accept_it(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    gw = echo_gateway(serve, start_gateway)
    big = httpx.get(f"{gw.url}/big/5000", headers={**KEY, "Accept-Encoding": "gzip"})
    assert big.headers["content-encoding"] == "gzip"
    assert int(big.headers["content-length"]) < 5000
    assert big.content == b"x" * 5000  # httpx decoded it, so the bytes were valid gzip
    plain = httpx.get(f"{gw.url}/big/5000", headers={**KEY, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == b"x" * 5000
    # Below GZipMiddleware's minimum_size compressing costs more than it saves.
    tiny = httpx.get(f"{gw.url}/big/100", headers={**KEY, "Accept-Encoding": "gzip"})
    assert "content-encoding" not in tiny.headers


def test_cors_preflight_answered_at_the_edge(gateway: httpx.Client) -> None:
    r = gateway.options(
        "/products",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    other = gateway.options(
        "/products",
        headers={"Origin": "http://localhost:4000", "Access-Control-Request-Method": "GET"},
    )
    assert other.status_code == 400


def test_path_is_forwarded_as_encoded(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    gw = echo_gateway(serve, start_gateway)
    r = httpx.get(f"{gw.url}/echo/a%2Fb/c%20d", headers=KEY)
    # The upstream decodes it itself: one segment "a/b", not two segments "a" and "b".
    assert r.json()["path"] == "/echo/a/b/c d"
    assert r.json()["raw_path"] == "/echo/a%2Fb/c%20d"


def test_access_log_has_one_json_line_per_request(
    gateway: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        r = gateway.get("/users/2", headers={"X-Request-ID": "find-me-42"})
        wait_for(
            lambda: any("find-me-42" in rec.getMessage() for rec in caplog.records),
            timeout_s=5,
            what="access log line",
        )
    messages = [rec.getMessage() for rec in caplog.records]
    line = json.loads(next(m for m in messages if "find-me-42" in m))
    assert line["status"] == r.status_code == 200
    assert (line["method"], line["path"], line["client"]) == ("GET", "/users/2", "demo")
    assert line["upstream"].startswith("127.0.0.1:")
    assert line["duration_ms"] >= 0


def test_unexpected_error_is_a_json_500_with_the_request_id(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Stands in for any bug: the client must still get the error shape, the log the details.
    def broken(*args: object) -> list[tuple[str, str]]:
        raise RuntimeError("a bug")

    gw = echo_gateway(serve, start_gateway)
    monkeypatch.setattr(proxy, "upstream_headers", broken)
    with caplog.at_level(logging.ERROR, logger="gateway.errors"):
        r = httpx.get(f"{gw.url}/echo/x", headers={**KEY, "X-Request-ID": "bug-7"})
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "bug-7"
    error = r.json()["error"]
    assert (error["code"], error["request_id"]) == ("internal_error", "bug-7")
    assert "unhandled RuntimeError on GET /echo/x, request bug-7" in caplog.messages


@pytest.mark.parametrize("method", ["PUT", "POST"])  # a buffered and a streamed body
def test_client_hanging_up_mid_body_is_499_without_a_traceback(
    method: str,
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw = echo_gateway(serve, start_gateway)
    # uvicorn logs tracebacks to "uvicorn.error", which does not propagate to the root logger.
    server_log = logging.getLogger("uvicorn.error")
    server_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="gateway.access"):
            head = (
                f"{method} /echo/x HTTP/1.1\r\nHost: gw\r\nX-API-Key: demo-key\r\n"
                f"X-Request-ID: gone-{method}\r\nContent-Length: 1000\r\n\r\n"
            )
            with socket.create_connection(("127.0.0.1", gw.port)) as raw:
                raw.sendall(head.encode() + b"only 17 of 1000 ")  # then hang up
            wait_for(
                lambda: any(f"gone-{method}" in m for m in caplog.messages),
                timeout_s=5,
                what="access log line",
            )
    finally:
        server_log.removeHandler(caplog.handler)
    line = json.loads(next(m for m in caplog.messages if f"gone-{method}" in m))
    assert line["status"] == 499
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
