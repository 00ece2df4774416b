"""API composition: one call that joins an order with its user and its products.

The order is required (no order, nothing to show). The user and the products are fetched
concurrently, so the answer takes max(user, products) rather than their sum; if one of them
fails the client still gets the rest, flagged ``degraded`` with the reason per missing part.

Composition needs three routes by name: ``orders``, ``users`` and ``catalog``. A gateway whose
route table lacks one (the bench's is catalog-only) answers ``503 composite_unavailable``
naming what is missing, rather than failing somewhere inside.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ValidationError

from gateway.deps import CallerDep, GatewayDep, LimitDep, require_routes
from gateway.errors import ErrorResponse, GatewayError
from gateway.upstream import Upstream, UpstreamError

# The routes composition reads, by their name in the route table.
PARTS = ("orders", "users", "catalog")

Shape = TypeVar("Shape", bound=BaseModel)


class OrderView(BaseModel):
    order: dict[str, Any]
    user: dict[str, Any] | None
    products: list[dict[str, Any]] | None
    degraded: bool
    missing: dict[str, str]  # part -> why it is missing


# What composition reads from each answer. The services are separate programs that may change
# or break; checking the few fields we use turns "not what we expected" into a 502 with a
# reason, where indexing blindly would be a KeyError and a 500. Other fields pass through.
class LineRefs(BaseModel):
    product_id: int


class OrderRefs(BaseModel):
    user_id: int
    lines: list[LineRefs]


class UserShape(BaseModel):
    id: int


class ProductPage(BaseModel):
    items: list[dict[str, Any]]


def _json(body: bytes, name: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:  # a 200 that is not JSON: the upstream broke its contract
        raise UpstreamError(502, "bad_gateway", f"{name} answered with no JSON") from None


def _check(shape: type[Shape], value: Any, name: str) -> Shape:
    try:
        return shape.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise UpstreamError(
            502, "bad_gateway", f"{name} answered an unexpected shape ({where}: {first['msg']})"
        ) from None


async def _fetch(upstream: Upstream, target: str, headers: list[tuple[str, str]]) -> Any:
    status, body = await upstream.fetch(target, headers)
    if status != 200:
        raise UpstreamError(502, "upstream_error", f"{upstream.route.name} said {status}")
    return _json(body, upstream.route.name)


async def _user(upstream: Upstream, user_id: int, headers: list[tuple[str, str]]) -> Any:
    user = await _fetch(upstream, f"/users/{user_id}", headers)
    _check(UserShape, user, "users")
    return user


async def _products(
    upstream: Upstream, ids: str, headers: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    page = await _fetch(upstream, f"/products?ids={ids}&limit=100", headers)
    return _check(ProductPage, page, "catalog").items


def missing_parts(upstreams: Mapping[str, Upstream]) -> list[str]:
    """The routes composition needs that this route table lacks."""
    return [name for name in PARTS if name not in upstreams]


async def composite_upstreams(gateway: GatewayDep, client: CallerDep) -> dict[str, Upstream]:
    """The three upstreams, or a clear refusal. Checked before the rate limit, so a refused
    call does not spend a token: first that this gateway has the routes at all (503, the
    operator's problem), then that the key may call all three (403, the caller's)."""
    absent = missing_parts(gateway.upstreams)
    if absent:
        raise GatewayError(
            503,
            "composite_unavailable",
            f"composition needs the routes {', '.join(PARTS)}; "
            f"this gateway has no route named {', '.join(absent)}",
        )
    require_routes(client, *PARTS)
    return {name: gateway.upstreams[name] for name in PARTS}


router = APIRouter(tags=["composition"])


@router.get(
    "/composite/orders/{order_id}",
    responses={code: {"model": ErrorResponse} for code in (401, 403, 404, 422, 429, 502, 503, 504)},
)
async def order_view(
    order_id: Annotated[int, Path(gt=0)],
    request: Request,
    client: CallerDep,
    ups: Annotated[dict[str, Upstream], Depends(composite_upstreams)],
    decision: LimitDep,
    response: Response,
) -> OrderView:
    if decision is not None:
        response.headers.update(decision.headers())
    headers = [
        ("x-request-id", request.scope["state"]["request_id"]),
        ("x-client-id", client.name),
    ]
    # An orders outage (503, 504) or protocol break (502) raises UpstreamError with the
    # status that says why; any other non-200 but 404 is the service failing: 502.
    status, body = await ups["orders"].fetch(f"/orders/{order_id}", headers)
    if status == 404:
        raise GatewayError(404, "not_found", f"order {order_id} not found")
    if status != 200:
        raise GatewayError(502, "upstream_error", f"orders said {status}")
    order = _json(body, "orders")
    refs = _check(OrderRefs, order, "orders")

    ids = ",".join(str(i) for i in sorted({line.product_id for line in refs.lines}))
    # return_exceptions: one failing part must not cancel the other one.
    parts: tuple[Any, Any] = await asyncio.gather(
        _user(ups["users"], refs.user_id, headers),
        _products(ups["catalog"], ids, headers),
        return_exceptions=True,
    )
    missing: dict[str, str] = {}
    user, products = parts
    for part, result in (("user", user), ("products", products)):
        if isinstance(result, UpstreamError):
            missing[part] = f"{result.code}: {result.message}"
        elif isinstance(result, BaseException):
            raise result  # a bug, not an upstream failure: the catch-all answers a JSON 500
    return OrderView(
        order=order,
        user=None if "user" in missing else user,
        products=None if "products" in missing else products,
        degraded=bool(missing),
        missing=missing,
    )
