"""One JSON error shape for everything the gateway refuses or cannot do:
``{"error": {"code": ..., "message": ..., "request_id": ...}}``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from gateway.upstream import UpstreamError

log = logging.getLogger("gateway.errors")


class GatewayError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str | None = None
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    # The request id in the body lets a user quote one string that finds the log line.
    body = ErrorBody(
        code=code,
        message=message,
        request_id=request.scope.get("state", {}).get("request_id"),
        details=details or [],
    )
    return JSONResponse({"error": body.model_dump()}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        return error_response(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(UpstreamError)
    async def upstream_error(request: Request, exc: UpstreamError) -> JSONResponse:
        return error_response(request, exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        return error_response(request, 422, "validation_error", "request is invalid", None, details)

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect) -> Response:
        # The client hung up while sending its request: nobody is left to answer. 499 is
        # nginx's code for this; it shows in the access log and is not counted as our error.
        return Response(status_code=499)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(request, exc.status_code, code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not a refusal: the client still gets the one error shape and a request id to
        # quote, never a plain-text "Internal Server Error". Starlette re-raises after this
        # answer, so the server logs the traceback; this line ties it to the request id.
        rid = request.scope.get("state", {}).get("request_id")
        log.error(
            "unhandled %s on %s %s, request %s",
            type(exc).__name__,
            request.method,
            request.url.path,
            rid,
        )
        # This handler runs outside EdgeMiddleware, which would otherwise add the header.
        headers = {"X-Request-ID": rid} if rid else None
        return error_response(request, 500, "internal_error", "unexpected error", headers)
