"""What the upstream services share: settings, pagination, error shape, health, X-Instance."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

# Deliberately loose: real validation of an address is sending it a message.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class ServiceSettings(BaseSettings):
    """One instance of one service; ``instance`` goes out in ``X-Instance`` to show balancing.
    Whoever starts an instance names it (``catalog-2``); ``seed`` reads ``SERVICE_SEED``."""

    model_config = SettingsConfigDict(env_prefix="SERVICE_", env_file=".env", extra="ignore")

    instance: str = "local"
    seed: bool = True


class Page(BaseModel, Generic[T]):
    """Offset pagination: the client gets the slice plus enough to ask for the next one."""

    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    offset: Annotated[int, Query(ge=0, description="items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


def paginate(items: list[T], page: PageParams) -> Page[T]:
    return Page[T](
        items=items[page.offset : page.offset + page.limit],
        total=len(items),
        limit=page.limit,
        offset=page.offset,
    )


class ServiceErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class ServiceError(BaseModel):
    """A service's error answer, ``{"error": {...}}``. The gateway answers the same shape (plus
    a request id) from its own ``gateway/errors.py``: a service is a separate program that
    never imports the gateway, so the shape is shared by convention, not by code."""

    error: ServiceErrorBody


# Header through which the gateway tells a service who the authenticated caller is. Services
# trust it because only the gateway can reach them (in production: a private network or mTLS).
CallerId = Annotated[str | None, Header(alias="X-Client-Id")]

_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 409: "conflict"}


class InstanceHeader:
    """Adds ``X-Instance`` to every answer. Pure ASGI: it only touches the response start
    message, without the extra task and buffering of ``@app.middleware("http")``."""

    def __init__(self, app: ASGIApp, instance: str) -> None:
        self.app, self.instance = app, instance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_instance(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Instance"] = self.instance
            await send(message)

        await self.app(scope, receive, send_with_instance)


def install_common(app: FastAPI, settings: ServiceSettings) -> None:
    """Error handlers, ``/health`` and the ``X-Instance`` header, shared by the three services."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "http_error")
        body = ServiceError(error=ServiceErrorBody(code=code, message=str(exc.detail)))
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # jsonable details: pydantic puts the offending input (maybe bytes) in "input"/"ctx".
        details = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        body = ServiceErrorBody(
            code="validation_error", message="request is invalid", details=details
        )
        return JSONResponse({"error": body.model_dump()}, status_code=422)

    app.add_middleware(InstanceHeader, instance=settings.instance)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "instance": settings.instance}
