"""The gateway's dependencies: its runtime state, who is calling, which route, may they, how often.

All are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a thread pool,
and that hop costs more than these functions do. For a proxied request they run in this
order, each refusal with its own status: 401 no/unknown key, 404 no route, 403 key not
allowed on the route, 429 over the limit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from gateway.errors import GatewayError
from gateway.ratelimit import Decision, MemoryRateLimiter, RedisRateLimiter
from gateway.settings import ApiClient, GatewaySettings
from gateway.upstream import Upstream

log = logging.getLogger("gateway.ratelimit")


@dataclass
class Gateway:
    """Everything that lives as long as the app: built in the lifespan, kept on ``app.state``."""

    settings: GatewaySettings
    upstreams: dict[str, Upstream]
    limiter: MemoryRateLimiter | RedisRateLimiter

    def match(self, path: str) -> Upstream | None:
        """Longest prefix wins, on segment boundaries: ``/users`` matches ``/users/1`` but not
        ``/usersx``."""
        best: Upstream | None = None
        for upstream in self.upstreams.values():
            prefix = upstream.route.prefix.rstrip("/")
            if (path == prefix or path.startswith(prefix + "/")) and (
                best is None or len(prefix) > len(best.route.prefix)
            ):
                best = upstream
        return best


async def get_gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def authenticate(
    request: Request,
    gateway: GatewayDep,
    api_key: Annotated[str | None, Header(alias="X-API-Key", include_in_schema=False)] = None,
) -> ApiClient:
    client = gateway.settings.api_keys.get(api_key) if api_key else None
    if client is None:
        message = "missing X-API-Key header" if not api_key else "unknown API key"
        raise GatewayError(401, "unauthenticated", message, {"WWW-Authenticate": "X-API-Key"})
    request.scope["state"]["client_name"] = client.name
    return client


CallerDep = Annotated[ApiClient, Depends(authenticate)]


def require_routes(client: ApiClient, *names: str) -> None:
    denied = [n for n in names if not client.may_call(n)]
    if denied:
        raise GatewayError(403, "forbidden", f"key of {client.name} may not call {denied[0]}")


async def resolve_upstream(request: Request, gateway: GatewayDep, client: CallerDep) -> Upstream:
    path = request.url.path  # percent-decoded: %2E%2E arrives here as ..
    # Access is decided on the prefix. "/products/../orders/1" starts with /products, but any
    # server that resolves dot segments would serve /orders/1 to a catalog-only key.
    if any(segment in {".", ".."} for segment in path.split("/")):
        raise GatewayError(400, "bad_path", "dot segments are not allowed in the path")
    upstream = gateway.match(path)
    if upstream is None:
        raise GatewayError(404, "no_route", f"no route for {request.url.path}")
    require_routes(client, upstream.route.name)
    return upstream


UpstreamDep = Annotated[Upstream, Depends(resolve_upstream)]


async def rate_limit(gateway: GatewayDep, client: CallerDep) -> Decision | None:
    """Per client, not per IP: a key identifies the party whose quota it is."""
    s = gateway.settings
    try:
        decision = await gateway.limiter.hit(
            client.name, client.rate_per_s or s.rate_per_s, client.burst or s.burst
        )
    except Exception as exc:  # noqa: BLE001 - any limiter failure, e.g. Redis down
        # Fail open: a broken limiter must not take the whole API down with it. The log line
        # is how someone learns that limits are not being enforced right now.
        log.warning("rate limiter unavailable, allowing %s: %r", client.name, exc)
        return None
    if not decision.allowed:
        raise GatewayError(
            429,
            "rate_limited",
            f"{client.name} is over {decision.limit} requests per burst; retry later",
            decision.headers(),
        )
    return decision


LimitDep = Annotated[Decision | None, Depends(rate_limit)]
