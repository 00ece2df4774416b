"""HTTP entrypoint: wires the real adapters together and maps errors to status codes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from orders.catalog import seed_demo_data
from orders.clock import Clock, SystemClock
from orders.db import Base, create_engine
from orders.domain import DomainError, OutOfStock
from orders.notifier import LogNotifier, Notifier
from orders.payments import (
    HttpPaymentGateway,
    PaymentDeclined,
    PaymentError,
    PaymentGateway,
    PaymentUnavailable,
)
from orders.repository import SqlRepository
from orders.sandbox import create_sandbox
from orders.schemas import ErrorOut, OrderIn, OrderOut, ProductOut
from orders.service import NotPayable, OrderNotFound, OrderRequest, OrderService
from orders.settings import Settings

# Status per business error; anything not listed is a 422 (the request cannot be fulfilled).
STATUS = {OrderNotFound: 404, OutOfStock: 409, NotPayable: 409}


@dataclass(frozen=True)
class Resources:
    sessions: async_sessionmaker[AsyncSession]
    payments: PaymentGateway
    clock: Clock
    notifier: Notifier


def payment_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.payment_timeout_s)
    if settings.payment_url == "sandbox://":
        transport = httpx.ASGITransport(app=create_sandbox())
        return httpx.AsyncClient(transport=transport, base_url="http://sandbox", timeout=timeout)
    return httpx.AsyncClient(base_url=settings.payment_url, timeout=timeout)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    resources: Resources = request.app.state.resources
    async with resources.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def get_service(request: Request, session: SessionDep) -> OrderService:
    r: Resources = request.app.state.resources
    return OrderService(SqlRepository(session), r.payments, r.clock, r.notifier)


ServiceDep = Annotated[OrderService, Depends(get_service)]
router = APIRouter()


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/products")
async def list_products(session: SessionDep) -> list[ProductOut]:
    return [ProductOut.of(p) for p in await SqlRepository(session).list_products()]


@router.post("/orders", status_code=201, responses={402: {"model": ErrorOut}})
async def place_order(body: OrderIn, service: ServiceDep) -> OrderOut:
    items = [(item.sku, item.quantity) for item in body.items]
    order = await service.place_order(OrderRequest(body.customer_email, items, body.coupon))
    return OrderOut.of(order)


@router.get("/orders/{order_id}", responses={404: {"model": ErrorOut}})
async def get_order(order_id: str, session: SessionDep) -> OrderOut:
    order = await SqlRepository(session).get_order(order_id)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    return OrderOut.of(order)


@router.post("/orders/{order_id}/pay", responses={404: {"model": ErrorOut}})
async def pay_order(order_id: str, service: ServiceDep) -> OrderOut:
    return OrderOut.of(await service.pay(order_id))


def _error(
    status: int,
    error: str,
    detail: str | list[dict[str, object]],
    order_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorOut(error=error, detail=detail, order_id=order_id)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return _error(STATUS.get(type(exc), 422), exc.code, str(exc))

    @app.exception_handler(PaymentError)
    async def payment_error(request: Request, exc: PaymentError) -> JSONResponse:
        # The order exists either way (failed or still pending): hand its id back so the
        # client can look at it or retry, instead of losing track of it.
        order_id = exc.order_id or request.path_params.get("order_id")
        if isinstance(exc, PaymentDeclined):
            return _error(402, "payment_declined", str(exc), order_id)
        if isinstance(exc, PaymentUnavailable):
            return _error(503, "payment_unavailable", str(exc), order_id)
        return _error(502, "payment_error", str(exc), order_id)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown paths and wrong methods get the same shape as every other error.
        error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        # Keep the headers (a 405 must say which methods are allowed).
        return _error(exc.status_code, error, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return _error(422, "invalid_request", detail)

    @app.exception_handler(Exception)
    async def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
        # A bug or a broken dependency: the same JSON shape as every other error, and nothing
        # of the exception in it (its text can hold internals). Starlette sends this response
        # and then re-raises, so the server (uvicorn) logs the exception with its traceback.
        return _error(500, "internal_error", "internal server error")


def create_app(
    settings: Settings,
    *,
    payments: PaymentGateway | None = None,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own doubles; ``main.py`` passes nothing."""
    the_clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(engine.dispose)
            async with engine.begin() as conn:
                # A lesson-sized shortcut; a real service runs migrations (alembic) instead.
                await conn.run_sync(Base.metadata.create_all)
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            gateway = payments
            if gateway is None:
                client = await stack.enter_async_context(payment_client(settings))
                gateway = HttpPaymentGateway(client)
            if settings.seed_demo_data:
                async with sessions() as session:
                    await seed_demo_data(SqlRepository(session), the_clock.now())
            app.state.resources = Resources(sessions, gateway, the_clock, notifier or LogNotifier())
            yield

    app = FastAPI(title="orders", lifespan=lifespan)
    app.include_router(router)
    install_error_handlers(app)
    return app
