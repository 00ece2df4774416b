"""The gateway's dependencies: its runtime state, who is calling, which route, may they, how often.

The checks run in this order, each refusal with its own status: 401 no/unknown key, 400 a
dot segment, 404 no route, 403 key not allowed on the route, 429 over the limit. The proxy
calls ``Gateway``'s methods directly; FastAPI endpoints get them as ``Annotated``
dependencies, all ``async def``: FastAPI runs a plain ``def`` dependency in a thread pool,
and that hop costs more than these functions do.
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
    """Everything that lives as long as the app: built in the lifespan, kept on ``app.state``.
    Its three checks are plain methods, so the proxy (pure ASGI) and the FastAPI endpoints
    (through the dependencies below) apply the same rules."""

    settings: GatewaySettings
    upstreams: dict[str, Upstream]
    limiter: MemoryRateLimiter | RedisRateLimiter

    def authenticate(self, api_key: str | None) -> ApiClient:
        client = self.settings.api_keys.get(api_key) if api_key else None
        if client is None:
            message = "missing X-API-Key header" if not api_key else "unknown API key"
            raise GatewayError(401, "unauthenticated", message, {"WWW-Authenticate": "X-API-Key"})
        return client

    def resolve(self, path: str, client: ApiClient) -> Upstream:
        """The upstream for ``path`` (percent-decoded), if ``client`` may call it."""
        # Access is decided on the prefix. "/products/../orders/1" starts with /products, but
        # any server that resolves dot segments would serve /orders/1 to a catalog-only key.
        if "/." in path and any(segment in {".", ".."} for segment in path.split("/")):
            raise GatewayError(400, "bad_path", "dot segments are not allowed in the path")
        upstream = self.match(path)
        if upstream is None:
            raise GatewayError(404, "no_route", f"no route for {path}")
        require_routes(client, upstream.route.name)
        return upstream

    def __post_init__(self) -> None:
        # Longest prefix first, so the first match is the most specific one.
        by_length = sorted(self.upstreams.values(), key=lambda u: -len(u.route.prefix))
        self._prefixes = [(u.route.prefix.rstrip("/"), u) for u in by_length]

    def match(self, path: str) -> Upstream | None:
        """Longest prefix wins, on segment boundaries: ``/users`` matches ``/users/1`` but not
        ``/usersx``."""
        for prefix, upstream in self._prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return upstream
        return None

    async def limit(self, client: ApiClient) -> Decision | None:
        """Per client, not per IP: a key identifies the party whose quota it is."""
        s = self.settings
        try:
            decision = await self.limiter.hit(
                client.name, client.rate_per_s or s.rate_per_s, client.burst or s.burst
            )
        except Exception as exc:  # noqa: BLE001 - any limiter failure, e.g. Redis down
            # Fail open: a broken limiter must not take the whole API down with it. The log
            # line is how someone learns that limits are not being enforced right now.
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


def require_routes(client: ApiClient, *names: str) -> None:
    denied = [n for n in names if not client.may_call(n)]
    if denied:
        raise GatewayError(403, "forbidden", f"key of {client.name} may not call {denied[0]}")


async def get_gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def authenticate(
    request: Request,
    gateway: GatewayDep,
    api_key: Annotated[str | None, Header(alias="X-API-Key", include_in_schema=False)] = None,
) -> ApiClient:
    client = gateway.authenticate(api_key)
    request.scope["state"]["client_name"] = client.name
    return client


CallerDep = Annotated[ApiClient, Depends(authenticate)]


async def rate_limit(gateway: GatewayDep, client: CallerDep) -> Decision | None:
    return await gateway.limit(client)


LimitDep = Annotated[Decision | None, Depends(rate_limit)]
