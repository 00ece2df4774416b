"""The proxy: what answers when no FastAPI route matches. It forwards the request to the
upstream of the longest matching prefix and streams the answer back.

It is a plain ASGI function, installed as the router's ``default``, not a FastAPI endpoint:
every request through the gateway passes here, and FastAPI's per-request machinery (a
``Request`` object, dependency resolution, response models) costs more CPU than all the
gateway's own decisions together (docs/notes.md shows the profile). It makes the same three
checks as the endpoints' dependencies by calling the same ``Gateway`` methods.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import aiohttp
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from gateway.deps import Gateway
from gateway.errors import GatewayError
from gateway.upstream import IDEMPOTENT, Body, Upstream, UpstreamError

# Hop-by-hop headers (RFC 9110 7.6.1) describe one connection, not the message: a proxy
# must not forward them. The Connection header may name more of them.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Set by the gateway only. A client could send them to spoof its address or identity.
EDGE_OWNED = frozenset(
    {
        "host",
        "x-api-key",
        "x-client-id",
        "x-request-id",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
    }
)
# uvicorn writes its own Date and Server; forwarding the upstream's would duplicate them.
RESPONSE_OWNED = frozenset({"date", "server"})
_DROP_IN = HOP_BY_HOP | EDGE_OWNED
_DROP_OUT = frozenset(h.encode() for h in HOP_BY_HOP | RESPONSE_OWNED)

# Below this size an answer is read whole and sent in one piece (so gzip can skip tiny
# bodies, and a broken or late answer can still become a clean 502/504); above it, or with
# no Content-Length, it is streamed chunk by chunk and never held whole in memory. nginx's
# proxy_buffering makes the same trade.
BUFFER_LIMIT = 64 * 1024


def _listed(value: str) -> set[str]:
    """The header names a Connection header lists (they are hop-by-hop too)."""
    return {token.strip().lower() for token in value.split(",") if token.strip()}


def upstream_headers(scope: Scope, client_name: str) -> list[tuple[str, str]]:
    # ASGI gives header names lower-cased, as bytes; aiohttp wants str.
    raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    host, drop = "", _DROP_IN
    for name, value in raw:
        if name == "connection":
            drop = drop | _listed(value)
        elif name == "host":
            host = value
    headers = [(k, v) for k, v in raw if k not in drop]
    peer = scope.get("client")
    headers += [
        # This gateway is the edge, so it overwrites (not appends to) X-Forwarded-For: what a
        # client claims there is not evidence. Behind a trusted load balancer you would append.
        ("x-forwarded-for", peer[0] if peer else "unknown"),
        ("x-forwarded-proto", scope["scheme"]),
        ("x-forwarded-host", host),
        ("x-request-id", scope["state"]["request_id"]),
        ("x-client-id", client_name),
    ]
    return headers


def client_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    drop = _DROP_OUT
    for name, value in raw:
        if name.lower() == b"connection":
            drop = drop | {t.encode() for t in _listed(value.decode("latin-1"))}
    return [(k, v) for k, v in raw if k.lower() not in drop]


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class BodyTooLarge(Exception):
    """Raised inside a body stream the moment it passes the cap."""


def too_large(limit: int) -> GatewayError:
    return GatewayError(413, "body_too_large", f"the request body is over {limit} bytes")


async def capped(receive: Receive, limit: int) -> AsyncIterator[bytes]:
    """The client's body as it arrives, refused the moment it passes ``limit`` bytes: a
    chunked upload has no Content-Length to check up front, so its bytes are counted."""
    seen, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect  # the client hung up mid-body: 499 in the access log
        chunk, more = message.get("body", b""), message.get("more_body", False)
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        if chunk:
            yield chunk


async def request_body(scope: Scope, receive: Receive, limit: int) -> Body:
    """Idempotent methods: read whole (up to ``limit``), so a retry can send it again (they
    rarely carry big ones). Others: streamed, so a large upload never sits in memory."""
    length = header(scope, b"content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large(limit)  # refused before reading a byte of it
    if scope["method"] not in IDEMPOTENT:
        return capped(receive, limit)
    try:
        body = b"".join([chunk async for chunk in capped(receive, limit)])
    except BodyTooLarge:
        raise too_large(limit) from None
    return body or None


async def relay(
    response: aiohttp.ClientResponse, deadline: float, route: str
) -> AsyncIterator[bytes]:
    """The upstream body, chunk by chunk, as it arrives. The route's deadline still holds:
    past it the connection is cut (the status line has gone, so a 504 is no longer possible)
    rather than left dripping."""
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    chunk = await response.content.readany()
            except TimeoutError:
                late = f"{route}: answer not finished"
                raise UpstreamError(504, "upstream_timeout", late) from None
            if not chunk:
                return
            yield chunk
    finally:
        # Runs also when the client goes away mid-body. A body read to the end returns its
        # connection to the pool; a half-read one is closed.
        response.release() if response.content.at_eof() else response.close()


async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":  # a WebSocket to an unknown path: refused, not proxied
        await send({"type": "websocket.close"})
        return
    gateway: Gateway = scope["app"].state.gateway
    client = gateway.authenticate(header(scope, b"x-api-key"))
    state = scope["state"]
    state["client_name"] = client.name
    upstream: Upstream = gateway.resolve(scope["path"], client)
    decision = await gateway.limit(client)
    limit = gateway.settings.max_body_bytes
    body = await request_body(scope, receive, limit)
    # The path as the client encoded it: decoding would turn an id containing %2F into a slash.
    target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    if query := scope["query_string"]:
        target += "?" + query.decode("latin-1")

    started = time.perf_counter()
    deadline = upstream.deadline()
    try:
        response = await upstream.send(
            scope["method"], target, upstream_headers(scope, client.name), body, deadline
        )
    except BodyTooLarge:
        # A streamed upload passed the cap: the upstream request is aborted, and the client,
        # still sending, is told why.
        raise too_large(limit) from None
    state["upstream_ms"] = (time.perf_counter() - started) * 1000
    state["upstream_instance"] = response.url.raw_authority

    # raw_headers keeps repeated headers (Set-Cookie) that a dict would merge.
    headers = client_headers(list(response.raw_headers))
    if decision is not None:
        headers += [(k.encode(), v.encode()) for k, v in decision.headers().items()]
    length = response.content_length
    if length is not None and length <= BUFFER_LIMIT:
        content = await upstream.read_body(response, deadline)
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    async with aclosing(relay(response, deadline, upstream.route.name)) as chunks:
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
