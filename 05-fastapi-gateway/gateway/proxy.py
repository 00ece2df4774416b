"""The catch-all route: forward a request to its upstream and stream the answer back."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from gateway.deps import CallerDep, LimitDep, UpstreamDep
from gateway.upstream import IDEMPOTENT, Body, UpstreamError

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


async def relay(response: httpx.Response) -> AsyncIterator[bytes]:
    """The upstream body, chunk by chunk, as it arrives: no buffering of large responses."""
    try:
        # aiter_raw: bytes exactly as sent, still compressed if the upstream compressed them.
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        # Runs also when the client goes away mid-body (the generator is closed then), so the
        # upstream connection always goes back to the pool.
        await response.aclose()


# Below this size an answer is read whole and sent in one piece, with its length known (so
# gzip can skip tiny bodies); above it, or with no Content-Length, it is streamed chunk by
# chunk and never held whole in memory. nginx's proxy_buffering makes the same trade.
BUFFER_LIMIT = 64 * 1024


async def into_response(upstream_response: httpx.Response, route: str) -> Response:
    length = upstream_response.headers.get("content-length", "")
    if length.isdigit() and int(length) <= BUFFER_LIMIT:
        try:
            body = b"".join([chunk async for chunk in upstream_response.aiter_raw()])
        except httpx.TimeoutException:
            raise UpstreamError(504, "upstream_timeout", f"{route}: answer not finished") from None
        except httpx.TransportError as exc:
            # Nothing has gone to the client yet, so it can still get a clean 502.
            raise UpstreamError(502, "bad_gateway", f"{route}: {exc!r}") from None
        finally:
            await upstream_response.aclose()
        return Response(body, status_code=upstream_response.status_code)
    return StreamingResponse(relay(upstream_response), status_code=upstream_response.status_code)


router = APIRouter()


@router.api_route(
    "/{path:path}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    include_in_schema=False,
)
async def proxy(
    request: Request, client: CallerDep, upstream: UpstreamDep, decision: LimitDep
) -> Response:
    # Idempotent methods: buffered, so a retry can send the body again (they rarely carry big
    # ones). Others: streamed, so a large upload goes through without sitting in memory.
    replayable = request.method in IDEMPOTENT
    body: Body = (await request.body() or None) if replayable else request.stream()
    # The path as the client encoded it: decoding would turn an id containing %2F into a slash.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    target = raw_path.decode("latin-1") + (f"?{request.url.query}" if request.url.query else "")
    started = time.perf_counter()
    upstream_response = await upstream.send(
        request.method, target, upstream_headers(request, client.name), body, stream=True
    )
    state = request.scope["state"]
    state["upstream_ms"] = (time.perf_counter() - started) * 1000
    state["upstream_instance"] = str(upstream_response.request.url.netloc, "ascii")
    response = await into_response(upstream_response, upstream.route.name)
    # raw_headers keeps repeated headers (Set-Cookie) that a dict would merge.
    response.raw_headers = client_headers(upstream_response.headers.raw)
    if decision is not None:
        response.headers.update(decision.headers())
    return response
