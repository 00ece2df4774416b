"""``create_app(settings)``: the protected API.

    GET  /inventory/{item_id}        a healthy dependency, usually
    GET  /recommendations/{item_id}  the dependency the demo and the bench make slow
    POST /orders                     a write: never retried unless it has an Idempotency-Key
    GET  /stats                      what each guard did
    GET  /health                     liveness (never shed, never limited)

Every route is rate limited per client and route; every request carries a deadline
(``X-Deadline-Ms``, or ``request_timeout_s``); the server sheds load past its queue.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

import aiohttp
import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, Header, Path, Request, Response
from pydantic import BaseModel, Field, ValidationError

from resilience.bulkhead import Bulkhead
from resilience.deadline import HEADER, Deadline
from resilience.errors import ApiError, install_error_handlers
from resilience.ratelimit import MEMORY_LIMITERS, Decision, Limiter
from resilience.ratelimit_redis import RedisLimiter
from resilience.retry import RetryBudget, RetryPolicy
from resilience.settings import Settings
from resilience.shedding import ARRIVED, LoadShedding
from resilience.throttle import AdaptiveThrottle
from resilience.upstream import Answer, Dependency

log = logging.getLogger("resilience.api")
CLIENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
ItemId = Annotated[int, Path(ge=0, le=1_000_000_000)]


class Order(BaseModel):
    item_id: int = Field(ge=0, le=1_000_000_000)
    quantity: int = Field(ge=1, le=100)


class Item(BaseModel):
    item_id: int
    source: str
    attempts: int  # calls to the upstream this answer took (retries show here)


def client_key(request: Request) -> str:
    """Who is asking: the X-Client-Id header (an API key's name in real life), else the peer
    address. A header anyone may set is only fair for clients you trust; see the README."""
    claimed = request.headers.get("x-client-id")
    if claimed is None:
        return request.client.host if request.client else "unknown"
    if not CLIENT_ID.fullmatch(claimed):
        raise ApiError(400, "bad_client_id", "X-Client-Id must be 1-64 of A-Z a-z 0-9 _ . -")
    return claimed


def deadline_of(request: Request) -> Deadline:
    s: Settings = request.app.state.settings
    try:
        deadline = Deadline.from_header(
            request.headers.get(HEADER),
            s.request_timeout_s,
            s.request_timeout_s,
            arrived=request.scope.get("state", {}).get(ARRIVED),
        )
    except ValueError as exc:
        raise ApiError(400, "bad_deadline", str(exc)) from None
    if deadline.expired:  # the caller has already given up: do nothing at all
        raise ApiError(504, "deadline_exceeded", "the deadline was spent before any work")
    return deadline


def limited(route: str) -> Callable[..., Coroutine[Any, Any, Decision]]:
    async def check(request: Request, response: Response) -> Decision:
        key = f"{route}:{client_key(request)}"
        limiter: Limiter = request.app.state.limiter
        try:
            decision = await limiter.hit(key)
        except aioredis.RedisError as exc:
            # Fail open: a limiter outage should not become an API outage. Flip this where
            # the limit protects something fragile.
            log.warning("rate limiter unavailable (%s): request allowed", type(exc).__name__)
            return Decision(True, 0, 0, 0, 0, 0)
        if not decision.allowed:
            raise ApiError(429, "rate_limited", f"limit is {decision.limit} per "
                           f"{decision.window_s:g} s for {route}", decision.headers())  # fmt: skip
        response.headers.update(decision.headers())
        return decision

    return check


def to_item(answer: Answer, source: str) -> Item:
    """The upstream's final answer, in this API's terms."""
    if 200 <= answer.status < 300:
        return Item(item_id=(answer.body or {}).get("item_id", -1), source=source,
                    attempts=answer.attempts)  # fmt: skip
    if answer.status == 504:
        raise ApiError(504, "deadline_exceeded", f"{source} ran out of time")
    why = f"{source} answered {answer.status} after {answer.attempts} attempt(s), {answer.stopped}"
    raise ApiError(502, "upstream_error", why)


async def read_order(request: Request) -> Order:
    """The body, read up to the cap (413 past it), then validated (422)."""
    cap: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ApiError(413, "body_too_large", f"body over {cap} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:  # a chunked body has no Content-Length to check up front
            raise ApiError(413, "body_too_large", f"body over {cap} bytes")
    try:
        return Order.model_validate_json(bytes(body))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(422, "validation_error", f"{where}: {first['msg']}") from None


def dependency(name: str, url: str, session: aiohttp.ClientSession, s: Settings) -> Dependency:
    return Dependency(
        name=name,
        base_url=url,
        session=session,
        policy=RetryPolicy(max_attempts=s.retry_attempts, backoff=s.backoff_strategy()),
        budget=RetryBudget(ratio=s.retry_budget_ratio),
        throttle=AdaptiveThrottle(k=s.throttle_k) if s.throttle else None,
        bulkhead=Bulkhead(name, s.bulkhead_size, s.bulkhead_queue) if s.bulkheads else None,
        margin_s=s.deadline_margin_s,
        rng=random.Random(),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    s = settings or Settings()
    if not (s.inventory_url and s.recommendations_url):
        raise ValueError("create_app needs inventory_url and recommendations_url")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One pool of connections for every upstream: what a slow one can use up.
        connector = aiohttp.TCPConnector(limit=s.pool_size)
        redis_client = aioredis.from_url(s.redis_url) if s.redis_url else None
        async with aiohttp.ClientSession(connector=connector) as session:
            app.state.deps = {
                "inventory": dependency("inventory", s.inventory_url or "", session, s),
                "recommendations": dependency(
                    "recommendations", s.recommendations_url or "", session, s
                ),
            }
            if redis_client is None:
                app.state.limiter = MEMORY_LIMITERS[s.rate_algorithm](s.policy())
            else:
                app.state.limiter = RedisLimiter(
                    redis_client, s.rate_algorithm, s.policy(), s.redis_prefix
                )
            try:
                yield
            finally:
                if redis_client is not None:
                    await redis_client.aclose()

    app = FastAPI(title="protected API", lifespan=lifespan)
    app.state.settings = s
    install_error_handlers(app)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/inventory/{item_id}", dependencies=[Depends(limited("inventory"))])
    async def inventory(item_id: ItemId, request: Request) -> Item:
        dep: Dependency = request.app.state.deps["inventory"]
        answer = await dep.call("GET", f"/work/{item_id}", deadline_of(request))
        return to_item(answer, "inventory")

    @app.get("/recommendations/{item_id}", dependencies=[Depends(limited("recommendations"))])
    async def recommendations(item_id: ItemId, request: Request) -> Item:
        dep: Dependency = request.app.state.deps["recommendations"]
        answer = await dep.call("GET", f"/work/{item_id}", deadline_of(request))
        return to_item(answer, "recommendations")

    @app.post("/orders", status_code=201, dependencies=[Depends(limited("orders"))])
    async def orders(
        request: Request,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Item:
        order = await read_order(request)
        dep: Dependency = request.app.state.deps["inventory"]
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        answer = await dep.call("POST", f"/work/{order.item_id}", deadline_of(request), headers,
                                idempotency_key=idempotency_key is not None)  # fmt: skip
        return to_item(answer, "inventory")

    @app.get("/stats")
    async def stats(request: Request) -> dict[str, Any]:
        deps: dict[str, Dependency] = request.app.state.deps
        return {
            name: {
                "retries": d.budget.retries,
                "retries_refused_by_budget": d.budget.refused,
                "throttled": d.throttle.refused_locally if d.throttle else None,
                "bulkhead_rejected": d.bulkhead.rejected if d.bulkhead else None,
            }
            for name, d in deps.items()
        }

    app.add_middleware(LoadShedding, max_in_flight=s.max_in_flight, max_queue=s.max_queue)
    return app
