"""Orders service. It stores ids of users and products only: joining them is the gateway's job
(API composition), so this service never calls the others and fails independently of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from services.common import (
    CallerId,
    Page,
    PageParams,
    ServiceError,
    ServiceSettings,
    install_common,
    page_params,
    paginate,
)


class OrderLine(BaseModel):
    product_id: int = Field(gt=0)
    quantity: int = Field(gt=0, le=1000)


class OrderIn(BaseModel):
    user_id: int = Field(gt=0)
    lines: list[OrderLine] = Field(min_length=1, max_length=100)


class Order(OrderIn):
    id: int
    # Who placed it, as authenticated by the gateway; None when called directly.
    created_by: str | None = None


class OrderRepository:
    """In-memory store; all access is on the event loop thread (async endpoints), so no lock."""

    def __init__(self) -> None:
        self._rows: dict[int, Order] = {}
        self._next_id = 1

    def add(self, data: OrderIn, created_by: str | None) -> Order:
        order = Order(id=self._next_id, created_by=created_by, **data.model_dump())
        self._rows[order.id] = order
        self._next_id += 1
        return order

    def get(self, order_id: int) -> Order:
        order = self._rows.get(order_id)
        if order is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"order {order_id} not found")
        return order

    def list(self, user_id: int | None) -> list[Order]:
        return [o for o in self._rows.values() if user_id is None or o.user_id == user_id]

    def delete(self, order_id: int) -> None:
        if self._rows.pop(order_id, None) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"order {order_id} not found")


async def get_repo(request: Request) -> OrderRepository:
    return request.app.state.repo


Repo = Annotated[OrderRepository, Depends(get_repo)]
Paging = Annotated[PageParams, Depends(page_params)]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(instance="orders-1")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repo = OrderRepository()
        if settings.seed:
            repo.add(OrderIn(user_id=1, lines=[OrderLine(product_id=1, quantity=1)]), None)
            lines = [OrderLine(product_id=2, quantity=2), OrderLine(product_id=3, quantity=1)]
            repo.add(OrderIn(user_id=2, lines=lines), None)
        app.state.repo = repo
        yield

    app = FastAPI(title="orders", lifespan=lifespan, responses={404: {"model": ServiceError}})
    install_common(app, settings)

    @app.get("/orders", response_model=Page[Order])
    async def list_orders(
        repo: Repo, page: Paging, user_id: Annotated[int | None, Query(gt=0)] = None
    ) -> Page[Order]:
        return paginate(repo.list(user_id), page)

    @app.post("/orders", status_code=status.HTTP_201_CREATED)
    async def create_order(
        data: OrderIn, repo: Repo, caller: CallerId, request: Request, response: Response
    ) -> Order:
        order = repo.add(data, created_by=caller)
        response.headers["Location"] = request.url_for("get_order", order_id=order.id).path
        return order

    @app.get("/orders/{order_id}")
    async def get_order(order_id: int, repo: Repo) -> Order:
        return repo.get(order_id)

    @app.delete("/orders/{order_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_order(order_id: int, repo: Repo) -> None:
        repo.delete(order_id)

    return app
