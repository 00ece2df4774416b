"""Catalog service: products with filters (``ids``, ``max_price``), pagination, 409 on a
duplicate SKU."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from services.common import (
    Page,
    PageParams,
    ServiceError,
    ServiceSettings,
    install_common,
    page_params,
    paginate,
)


class ProductIn(BaseModel):
    sku: str = Field(pattern=r"^[A-Z0-9-]{3,32}$")
    name: str = Field(min_length=1, max_length=200)
    # Decimal, not float: money must not pick up binary rounding on its way through JSON.
    price: Decimal = Field(gt=0, max_digits=10, decimal_places=2)


class Product(ProductIn):
    id: int


class ProductRepository:
    """In-memory store; all access is on the event loop thread (async endpoints), so no lock."""

    def __init__(self) -> None:
        self._rows: dict[int, Product] = {}

    def add(self, data: ProductIn) -> Product:
        if any(p.sku == data.sku for p in self._rows.values()):
            raise HTTPException(status.HTTP_409_CONFLICT, f"sku {data.sku} exists")
        product = Product(id=len(self._rows) + 1, **data.model_dump())
        self._rows[product.id] = product
        return product

    def get(self, product_id: int) -> Product:
        product = self._rows.get(product_id)
        if product is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"product {product_id} not found")
        return product

    def search(self, ids: set[int] | None, max_price: Decimal | None) -> list[Product]:
        return [
            p
            for p in self._rows.values()
            if (ids is None or p.id in ids) and (max_price is None or p.price <= max_price)
        ]


async def get_repo(request: Request) -> ProductRepository:
    return request.app.state.repo


Repo = Annotated[ProductRepository, Depends(get_repo)]
Paging = Annotated[PageParams, Depends(page_params)]


async def parse_ids(
    ids: Annotated[
        str | None,
        Query(pattern=r"^\d+(,\d+){0,99}$", description="comma-separated product ids"),
    ] = None,
) -> set[int] | None:
    """``?ids=1,2,3`` lets a caller (the gateway's composition) fetch many products in one call."""
    return None if ids is None else {int(i) for i in ids.split(",")}


SEED = [("KB-01", "Keyboard", "49.90"), ("MS-02", "Mouse", "19.90"), ("MN-03", "Monitor", "189.00")]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(instance="catalog-1")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repo = ProductRepository()
        if settings.seed:
            for sku, name, price in SEED:
                repo.add(ProductIn(sku=sku, name=name, price=Decimal(price)))
        app.state.repo = repo
        yield

    app = FastAPI(title="catalog", lifespan=lifespan, responses={404: {"model": ServiceError}})
    install_common(app, settings)

    @app.get("/products", response_model=Page[Product])
    async def list_products(
        repo: Repo,
        page: Paging,
        ids: Annotated[set[int] | None, Depends(parse_ids)],
        max_price: Annotated[Decimal | None, Query(gt=0)] = None,
    ) -> Page[Product]:
        return paginate(repo.search(ids, max_price), page)

    @app.post(
        "/products", status_code=status.HTTP_201_CREATED, responses={409: {"model": ServiceError}}
    )
    async def create_product(
        data: ProductIn, repo: Repo, request: Request, response: Response
    ) -> Product:
        product = repo.add(data)
        response.headers["Location"] = request.url_for("get_product", product_id=product.id).path
        return product

    @app.get("/products/{product_id}")
    async def get_product(product_id: int, repo: Repo) -> Product:
        return repo.get(product_id)

    return app
