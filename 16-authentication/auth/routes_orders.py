"""The protected API: role checks with ``require(...)``, object checks (owner or admin)
beside them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from auth.deps import Principal, ServicesDep, require
from auth.errors import ApiError
from auth.orders import OrderView

router = APIRouter()
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class NewOrder(BaseModel):
    item: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=1000)


class OrderOut(BaseModel):
    id: int
    owner_id: int
    item: str
    quantity: int


class UserOut(BaseModel):
    username: str
    roles: list[str]
    mfa_enabled: bool


def _out(order: OrderView) -> OrderOut:
    return OrderOut(id=order.id, owner_id=order.owner_id, item=order.item, quantity=order.quantity)


def owner_or_admin(who: Principal, order: OrderView | None) -> OrderView:
    """The object-level check a role check cannot make: "orders:write" lets a clerk change
    orders, not *everyone's* orders. Without it, changing the id in the URL is enough to
    reach someone else's data (IDOR, the top entry of the OWASP API Top 10)."""
    if order is None:
        raise ApiError(404, "not_found", "no such order")
    if order.owner_id != who.account.id and not who.account.can("orders:any"):
        raise ApiError(403, "forbidden", "this order belongs to someone else")
    return order


@router.get("/orders", response_model=list[OrderOut])
async def list_orders(
    services: ServicesDep, who: Annotated[Principal, require("orders:read")]
) -> list[OrderOut]:
    owner = None if who.account.can("orders:any") else who.account.id
    return [_out(o) for o in await run_in_threadpool(services.orders.list, owner)]


@router.post("/orders", response_model=OrderOut, status_code=201)
async def create_order(
    body: NewOrder, services: ServicesDep, who: Annotated[Principal, require("orders:write")]
) -> OrderOut:
    order = await run_in_threadpool(
        services.orders.create, who.account.id, body.item, body.quantity
    )
    return _out(order)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(
    order_id: OrderId, services: ServicesDep, who: Annotated[Principal, require("orders:read")]
) -> OrderOut:
    return _out(owner_or_admin(who, await run_in_threadpool(services.orders.get, order_id)))


@router.delete("/orders/{order_id}", status_code=204)
async def delete_order(
    order_id: OrderId, services: ServicesDep, who: Annotated[Principal, require("orders:write")]
) -> Response:
    owner_or_admin(who, await run_in_threadpool(services.orders.get, order_id))
    await run_in_threadpool(services.orders.delete, order_id)
    return Response(status_code=204)


@router.get("/admin/users", response_model=list[UserOut])
async def list_users(
    services: ServicesDep, who: Annotated[Principal, require("users:read")]
) -> list[UserOut]:
    accounts = await run_in_threadpool(services.users.all)
    return [
        UserOut(username=a.username, roles=sorted(a.roles), mfa_enabled=a.mfa) for a in accounts
    ]
