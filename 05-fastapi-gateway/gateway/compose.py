"""API composition: one call that joins an order with its user and its products.

The order is required (no order, nothing to show). The user and the products are fetched
concurrently, so the answer takes max(user, products) rather than their sum; if one of them
fails the client still gets the rest, flagged ``degraded`` with the reason per missing part.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from gateway.deps import CallerDep, GatewayDep, LimitDep, require_routes
from gateway.errors import ErrorResponse, GatewayError
from gateway.settings import ApiClient
from gateway.upstream import Upstream, UpstreamError


class OrderView(BaseModel):
    order: dict[str, Any]
    user: dict[str, Any] | None
    products: list[dict[str, Any]] | None
    degraded: bool
    missing: dict[str, str]  # part -> why it is missing


def _json(response: httpx.Response, name: str) -> Any:
    try:
        return response.json()
    except ValueError:  # a 200 that is not JSON: the upstream broke its contract
        raise UpstreamError(502, "bad_gateway", f"{name} answered with no JSON") from None


async def _fetch(upstream: Upstream, target: str, headers: list[tuple[str, str]]) -> Any:
    response = await upstream.send("GET", target, headers)
    if response.status_code != 200:
        raise UpstreamError(
            502, "upstream_error", f"{upstream.route.name} said {response.status_code}"
        )
    return _json(response, upstream.route.name)


async def composite_caller(client: CallerDep) -> ApiClient:
    """The composite reads three services, so the key must be allowed on all three. Checked
    before the rate limit, so a refused call does not spend a token."""
    require_routes(client, "orders", "users", "catalog")
    return client


router = APIRouter(tags=["composition"])


@router.get(
    "/composite/orders/{order_id}",
    responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
async def order_view(
    order_id: Annotated[int, Path(gt=0)],
    request: Request,
    gateway: GatewayDep,
    client: Annotated[ApiClient, Depends(composite_caller)],
    decision: LimitDep,
    response: Response,
) -> OrderView:
    if decision is not None:
        response.headers.update(decision.headers())
    ups = gateway.upstreams
    headers = [
        ("x-request-id", request.scope["state"]["request_id"]),
        ("x-client-id", client.name),
    ]
    order_response = await ups["orders"].send("GET", f"/orders/{order_id}", headers)
    if order_response.status_code == 404:
        raise GatewayError(404, "not_found", f"order {order_id} not found")
    if order_response.status_code != 200:
        raise GatewayError(502, "upstream_error", f"orders said {order_response.status_code}")
    order = _json(order_response, "orders")

    ids = ",".join(str(i) for i in sorted({line["product_id"] for line in order["lines"]}))
    # return_exceptions: one failing part must not cancel the other one.
    parts: tuple[Any, Any] = await asyncio.gather(
        _fetch(ups["users"], f"/users/{order['user_id']}", headers),
        _fetch(ups["catalog"], f"/products?ids={ids}&limit=100", headers),
        return_exceptions=True,
    )
    missing: dict[str, str] = {}
    user, products = parts
    for part, result in (("user", user), ("products", products)):
        if isinstance(result, UpstreamError):
            missing[part] = f"{result.code}: {result.message}"
        elif isinstance(result, BaseException):
            raise result
    return OrderView(
        order=order,
        user=None if "user" in missing else user,
        products=None if "products" in missing else products["items"],
        degraded=bool(missing),
        missing=missing,
    )
