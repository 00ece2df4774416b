"""The protected API: what a token buys. Scopes per endpoint with FastAPI's ``Security``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Security
from pydantic import BaseModel, Field

from tokens.deps import Principal, authenticated

router = APIRouter()


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class Item(ItemIn):
    id: int
    owner: str


class Me(BaseModel):
    sub: str
    scopes: list[str]
    exp: int
    jti: str


@router.get("/me", response_model=Me)
async def me(who: Annotated[Principal, Security(authenticated)]) -> Me:
    """Any valid token will do: no scope needed."""
    return Me(sub=who.sub, scopes=sorted(who.scopes), exp=who.exp, jti=who.jti)


@router.get("/items", response_model=list[Item])
async def list_items(
    request: Request, who: Annotated[Principal, Security(authenticated, scopes=["items:read"])]
) -> list[Any]:
    items: list[Item] = request.app.state.items
    return items


@router.post("/items", response_model=Item, status_code=201)
async def create_item(
    body: ItemIn,
    request: Request,
    who: Annotated[Principal, Security(authenticated, scopes=["items:write"])],
) -> Item:
    items: list[Item] = request.app.state.items
    item = Item(id=len(items) + 1, name=body.name, owner=who.sub)
    items.append(item)
    return item
