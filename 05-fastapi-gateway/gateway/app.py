"""``create_app(settings)``: the gateway as a FastAPI app, wired in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel

from gateway import compose, proxy
from gateway.balancer import Balancer, health_loop
from gateway.deps import Gateway, GatewayDep
from gateway.errors import install_error_handlers
from gateway.middleware import EdgeMiddleware, GzipWhenAsked
from gateway.ratelimit import RedisRateLimiter, make_limiter
from gateway.settings import GatewaySettings
from gateway.upstream import Upstream, new_session

log = logging.getLogger("gateway")


class Readiness(BaseModel):
    ready: bool
    upstreams: dict[str, list[str]]  # name -> instances in rotation and not failing
    limiter: str


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One client for the app's life: its pool keeps connections to upstreams open, so a
        # request does not pay a TCP handshake. Deadlines are set per request from the route.
        async with new_session() as session:
            upstreams = {
                r.name: Upstream(
                    r,
                    Balancer(
                        r.name, r.instances, settings.eject_after_failures, settings.eject_after_5xx
                    ),
                    session,
                    settings.retry_backoff_s,
                )
                for r in settings.routes
            }
            if absent := compose.missing_parts(upstreams):
                # Said once at startup, so an operator need not learn it from a client's 503.
                # INFO, not WARNING: a catalog-only gateway (the bench's) is a valid choice.
                log.info("/composite/orders answers 503: no route named %s", ", ".join(absent))
            limiter = make_limiter(settings.redis_url, settings.rate_limit_prefix)
            app.state.gateway = Gateway(settings, upstreams, limiter)
            balancers = [u.balancer for u in upstreams.values()]
            interval = settings.health_interval_s
            prober = asyncio.create_task(health_loop(balancers, session, interval))
            try:
                yield
            finally:
                prober.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await prober
                await limiter.aclose()

    app = FastAPI(
        title="API gateway",
        summary="Routes /users, /orders and /products to their services; composes orders.",
        lifespan=lifespan,
        # No "did you mean /health/?" redirects: every path that is not the gateway's own
        # goes to the proxy as it is, without a second round of route matching.
        redirect_slashes=False,
    )
    install_error_handlers(app)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers. Says nothing about upstreams, on purpose: a
        restart would not fix them."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"], responses={503: {"model": Readiness}})
    async def ready(gateway: GatewayDep, response: Response) -> Readiness:
        """Readiness: every upstream has an instance that is not failing, and the limiter's
        store answers."""
        healthy = {
            name: [i.url for i in u.balancer.serving()] for name, u in gateway.upstreams.items()
        }
        limiter = "memory"
        if isinstance(gateway.limiter, RedisRateLimiter):
            try:
                await gateway.limiter.ping()
                limiter = "redis"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                limiter = f"redis unavailable: {exc!r}"
        ok = all(healthy.values()) and not limiter.startswith("redis unavailable")
        response.status_code = 200 if ok else 503
        return Readiness(ready=ok, upstreams=healthy, limiter=limiter)

    app.include_router(compose.router)
    # Whatever no route above matches goes to the proxy, so it cannot shadow /health, /ready,
    # /docs or the composite route.
    app.router.default = proxy.proxy

    # add_middleware wraps what is already there, so the last added runs first:
    # Edge (request id, timing, log) sees every request, CORS answers preflights, GZip innermost.
    app.add_middleware(GzipWhenAsked, minimum_size=1000)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["X-API-Key", "Content-Type", "X-Request-ID"],
        expose_headers=[
            "X-Request-ID",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "Server-Timing",
        ],
    )
    app.add_middleware(EdgeMiddleware, log_requests=settings.access_log)
    return app
