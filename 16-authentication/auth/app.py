"""The whole service in one FastAPI app: ``create_app(settings)``."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from auth import routes_mfa, routes_oauth, routes_orders, routes_session
from auth.db import make_engine, make_sessions
from auth.deps import Services
from auth.errors import BodyLimit, error_json, install_error_handlers
from auth.mfa import Mfa
from auth.oauth import Codes
from auth.orders import Orders
from auth.passwords import Argon2Params, Passwords
from auth.sessions import RedisSessionStore, Sessions, SessionStore, SqlSessionStore
from auth.settings import Settings
from auth.throttle import Counters, MemoryCounters, RedisCounters, Throttle
from auth.users import Users

log = logging.getLogger("auth")


def make_passwords(settings: Settings) -> Passwords:
    params = Argon2Params(
        settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism
    )
    return Passwords(params, settings.bcrypt_rounds, settings.max_password_bytes)


def build_services(
    settings: Settings, clock: Callable[[], float], redis_client: aioredis.Redis | None
) -> Services:
    engine = make_engine(settings.database_url)
    db = make_sessions(engine)
    passwords = make_passwords(settings)
    users = Users(db, passwords)
    users.ensure_roles()
    store: SessionStore
    counters: Counters
    if redis_client is not None:
        store = RedisSessionStore(
            redis_client, settings.redis_prefix, settings.session_idle_s,
            settings.session_absolute_s,
        )  # fmt: skip
        counters = RedisCounters(redis_client, settings.redis_prefix)
    else:
        store = SqlSessionStore(db, settings.session_idle_s, settings.session_absolute_s)
        counters = MemoryCounters()
    throttle = Throttle(
        counters, settings.throttle_base_delay_s, settings.throttle_max_delay_s,
        settings.throttle_window_s,
    )  # fmt: skip
    return Services(
        settings=settings,
        passwords=passwords,
        users=users,
        mfa=Mfa(db),
        sessions=Sessions(store),
        throttle=throttle,
        codes=Codes(db, settings.auth_code_ttl_s),
        orders=Orders(db),
        engine=engine,
        clock=clock,
    )


def create_app(settings: Settings, clock: Callable[[], float] = time.time) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Timeouts: a Redis that hangs must turn into a 503 within seconds, not a hung request.
        client = (
            aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
            if settings.redis_url
            else None
        )
        services = build_services(settings, clock, client)
        app.state.services = services
        try:
            yield
        finally:
            if client is not None:
                await client.aclose()
            services.engine.dispose()

    app = FastAPI(title="Lesson 16: authentication and authorization", lifespan=lifespan)
    install_error_handlers(app)

    @app.exception_handler(RedisError)
    async def redis_down(request: Request, exc: RedisError) -> JSONResponse:
        # Fail closed: without the session store nobody can be recognised.
        log.warning("session store unavailable: %s", type(exc).__name__)
        return error_json(503, "store_unavailable", "the session store does not answer")

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return error_json(503, "database_unavailable", "the database does not answer")

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(routes_oauth.router)
    app.include_router(routes_session.router)
    app.include_router(routes_orders.router)
    app.include_router(routes_mfa.router)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
