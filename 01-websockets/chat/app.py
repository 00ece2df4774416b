"""The FastAPI application: a factory, a lifespan that owns the hub, and three routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Response, WebSocket
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from .backplane import Backplane
from .endpoint import chat_socket
from .hub import Hub
from .memory import MemoryBackplane
from .protocol import UserName
from .redis_backplane import RedisBackplane
from .settings import Settings
from .tokens import issue_token

STATIC = Path(__file__).parent / "static"


class SessionRequest(BaseModel):
    name: UserName


class SessionResponse(BaseModel):
    user: str
    token: str
    expires_in: float


class Health(BaseModel):
    # "degraded" (with HTTP 503) when the broker no longer delivers to this instance.
    status: Literal["ok", "degraded"]
    broker: str
    connections: int
    rooms: int
    slow_disconnects: int


def make_backplane(settings: Settings) -> Backplane:
    if settings.redis_url:
        return RedisBackplane(settings.redis_url, settings.namespace, settings.history_size)
    return MemoryBackplane(settings.history_size)


def get_hub(conn: HTTPConnection) -> Hub:
    # HTTPConnection is the common base of Request and WebSocket: one dependency serves both.
    hub: Hub = conn.app.state.hub
    return hub


def get_settings(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


HubDep = Annotated[Hub, Depends(get_hub)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = Hub(make_backplane(settings), settings.max_rooms)
        await hub.start()  # with Redis: connect and SUBSCRIBE before taking traffic
        app.state.hub = hub
        try:
            yield
        finally:
            await hub.close()

    app = FastAPI(title="chat", lifespan=lifespan)
    app.state.settings = settings

    @app.post("/session", response_model=SessionResponse)
    async def create_session(body: SessionRequest, cfg: SettingsDep) -> SessionResponse:
        """Trade a display name for a signed token that /ws accepts until it expires."""
        token = issue_token(body.name, cfg.secret, cfg.token_ttl)
        return SessionResponse(user=body.name, token=token, expires_in=cfg.token_ttl)

    @app.get("/health", response_model=Health, responses={503: {"model": Health}})
    async def health(hub: HubDep, response: Response) -> Health:
        ok = hub.backplane.healthy()
        if not ok:
            response.status_code = 503
        return Health(
            status="ok" if ok else "degraded",
            broker=hub.backplane.name,
            connections=len(hub.connections),
            rooms=len(hub.rooms),
            slow_disconnects=hub.slow_disconnects,
        )

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket,
        hub: HubDep,
        cfg: SettingsDep,
        token: Annotated[str | None, Query()] = None,
    ) -> None:
        # The token travels in the query string because browsers cannot set headers on a
        # WebSocket handshake. Keep it short-lived: query strings end up in access logs.
        await chat_socket(websocket, token, hub, cfg)

    return app
