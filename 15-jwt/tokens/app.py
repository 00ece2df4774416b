"""The auth server and the protected API in one FastAPI app: ``create_app(settings)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tokens import api_routes, auth_routes
from tokens.db import make_engine, make_sessions
from tokens.deps import Services
from tokens.errors import BodyLimit, install_error_handlers
from tokens.issue import Issuer
from tokens.keyring import KeyRing
from tokens.refresh import RefreshStore
from tokens.revocation import MemoryRevocations, RedisRevocations, Revocations
from tokens.settings import Settings
from tokens.users import Users
from tokens.verify import KeySource, Policy, RemoteKeys, RingKeys


def make_revocations(settings: Settings) -> Revocations:
    if settings.redis_url:
        return RedisRevocations(settings.redis_url, settings.revocation_prefix, settings.leeway_s)
    return MemoryRevocations(settings.leeway_s)


def create_app(
    settings: Settings, ring: KeyRing | None = None, revocations: Revocations | None = None
) -> FastAPI:
    """``ring`` and ``revocations`` may be handed in (tests share them between two apps)."""
    ring = ring or KeyRing(settings.algorithm, settings.key_retire_after_s, settings.key_dir)
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        revs = revocations or make_revocations(settings)
        keys: KeySource = (
            RemoteKeys(settings.jwks_url, lifespan_s=settings.jwks_cache_s)
            if settings.jwks_url
            else RingKeys(ring)
        )
        app.state.services = Services(
            settings=settings,
            ring=ring,
            issuer=Issuer(ring, settings.issuer, settings.audience, settings.access_ttl_s),
            keys=keys,
            policy=Policy(
                issuer=settings.issuer,
                audience=settings.audience,
                leeway_s=settings.leeway_s,
                max_bytes=settings.max_token_bytes,
            ),
            store=RefreshStore(make_sessions(engine), settings.refresh_ttl_s),
            revocations=revs,
            users=Users.demo(),
        )
        app.state.items = []
        try:
            yield
        finally:
            if revocations is None:  # ours to close; one handed in belongs to the caller
                await revs.aclose()
            engine.dispose()

    app = FastAPI(title="Lesson 15: JWT auth server and API", lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(auth_routes.router)
    app.include_router(api_routes.router)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
