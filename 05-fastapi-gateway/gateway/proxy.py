"""The catch-all route: forward a request to its upstream and stream the answer back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from gateway.deps import CallerDep, GatewayDep, LimitDep, UpstreamDep
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


def _connection_listed(value: str) -> set[str]:
    return {token.strip().lower() for token in value.split(",") if token.strip()}


def upstream_headers(request: Request, client_name: str) -> list[tuple[str, str]]:
    drop = HOP_BY_HOP | EDGE_OWNED | _connection_listed(request.headers.get("connection", ""))
    headers = [(k, v) for k, v in request.headers.items() if k not in drop]
    headers += [
        # This gateway is the edge, so it overwrites (not appends to) X-Forwarded-For: what a
        # client claims there is not evidence. Behind a trusted load balancer you would append.
        ("x-forwarded-for", request.client.host if request.client else "unknown"),
        ("x-forwarded-proto", request.url.scheme),
        ("x-forwarded-host", request.headers.get("host", "")),
        ("x-request-id", request.scope["state"]["request_id"]),
        ("x-client-id", client_name),
    ]
    return headers


def client_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    listed = {
        t.strip().lower().encode()
        for k, v in raw
        if k.lower() == b"connection"
        for t in v.decode("latin-1").split(",")
    }
    drop = {h.encode() for h in HOP_BY_HOP | RESPONSE_OWNED} | listed
    return [(k, v) for k, v in raw if k.lower() not in drop]


async def relay(
    response: aiohttp.ClientResponse, deadline: float, route: str
) -> AsyncIterator[bytes]:
    """The upstream body, chunk by chunk, as it arrives: no buffering of large responses. The
    route's deadline still holds: past it the connection is cut (the status line has gone, so
    a 504 is no longer possible) rather than left dripping."""
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
        # Runs also when the client goes away mid-body (the generator is closed then). A body
        # read to the end returns its connection to the pool; a half-read one is closed.
        response.release() if response.content.at_eof() else response.close()


# Below this size an answer is read whole and sent in one piece, with its length known (so
# gzip can skip tiny bodies, and a broken or late answer can still become a clean 502/504);
# above it, or with no Content-Length, it is streamed chunk by chunk and never held whole in
# memory. nginx's proxy_buffering makes the same trade.
BUFFER_LIMIT = 64 * 1024


async def into_response(
    upstream: Upstream, response: aiohttp.ClientResponse, deadline: float
) -> Response:
    length = response.content_length
    if length is not None and length <= BUFFER_LIMIT:
        body = await upstream.read_body(response, deadline)
        return Response(body, status_code=response.status)
    return StreamingResponse(
        relay(response, deadline, upstream.route.name), status_code=response.status
    )


class BodyTooLarge(Exception):
    """Raised inside a body stream the moment it passes the cap."""


def too_large(limit: int) -> GatewayError:
    return GatewayError(413, "body_too_large", f"the request body is over {limit} bytes")


async def capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The client's body as it arrives, refused the moment it passes ``limit`` bytes: a
    chunked upload has no Content-Length to check up front, so its bytes are counted."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        yield chunk


async def request_body(request: Request, limit: int) -> Body:
    """Idempotent methods: read whole (up to ``limit``), so a retry can send it again (they
    rarely carry big ones). Others: streamed, so a large upload never sits in memory."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large(limit)  # refused before reading a byte of it
    if request.method not in IDEMPOTENT:
        return capped(request, limit)
    try:
        body = b"".join([chunk async for chunk in capped(request, limit)])
    except BodyTooLarge:
        raise too_large(limit) from None
    return body or None


router = APIRouter()


@router.api_route(
    "/{path:path}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    include_in_schema=False,
)
async def proxy(
    request: Request,
    gateway: GatewayDep,
    client: CallerDep,
    upstream: UpstreamDep,
    decision: LimitDep,
) -> Response:
    limit = gateway.settings.max_body_bytes
    body = await request_body(request, limit)
    # The path as the client encoded it: decoding would turn an id containing %2F into a slash.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope["query_string"]
    target = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
    started = time.perf_counter()
    deadline = upstream.deadline()
    try:
        response = await upstream.send(
            request.method, target, upstream_headers(request, client.name), body, deadline
        )
    except BodyTooLarge:
        # A streamed upload passed the cap: the upstream request is aborted, and the client,
        # still sending, is told why.
        raise too_large(limit) from None
    state = request.scope["state"]
    state["upstream_ms"] = (time.perf_counter() - started) * 1000
    state["upstream_instance"] = response.url.raw_authority
    answer = await into_response(upstream, response, deadline)
    # raw_headers keeps repeated headers (Set-Cookie) that a dict would merge.
    answer.raw_headers = client_headers(list(response.raw_headers))
    if decision is not None:
        answer.headers.update(decision.headers())
    return answer
