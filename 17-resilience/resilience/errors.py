"""One JSON error shape for every refusal: ``{"error": {"code": ..., "message": ...}}``, with
the status that tells a client what to do (429/503: come back after Retry-After; 504: the
deadline ran out; 4xx: fix the request)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from resilience.bulkhead import BulkheadFull
from resilience.upstream import Throttled

log = logging.getLogger("resilience.api")


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return error_response(422, "validation_error", f"{where}: {first['msg']}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), exc.headers)

    # A full bulkhead or our own throttle: the dependency is protected, come back shortly.
    @app.exception_handler(BulkheadFull)
    async def bulkhead_full(request: Request, exc: BulkheadFull) -> JSONResponse:
        return error_response(503, "bulkhead_full", str(exc), {"Retry-After": "1"})

    @app.exception_handler(Throttled)
    async def throttled(request: Request, exc: Throttled) -> JSONResponse:
        return error_response(503, "throttled", str(exc), {"Retry-After": "1"})

    @app.exception_handler(TimeoutError)
    async def timed_out(request: Request, exc: TimeoutError) -> JSONResponse:
        return error_response(504, "deadline_exceeded", "the request's deadline ran out")

    @app.exception_handler(ConnectionError)
    async def unreachable(request: Request, exc: ConnectionError) -> JSONResponse:
        return error_response(503, "upstream_unavailable", str(exc), {"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not a refusal: still the one shape, never a plain-text 500.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(500, "internal_error", "unexpected error")
