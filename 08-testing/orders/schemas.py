"""Request and response bodies of the HTTP API (pydantic v2)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from orders.domain import Order, Product, format_money


class ItemIn(BaseModel):
    sku: str = Field(min_length=1, max_length=32)
    quantity: int = Field(ge=1, description="units; the business limit is checked by the domain")


class OrderIn(BaseModel):
    customer_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    items: list[ItemIn] = Field(max_length=50)
    coupon: str | None = Field(default=None, max_length=32)


class LineOut(BaseModel):
    sku: str
    quantity: int
    unit_price_cents: int


class OrderOut(BaseModel):
    id: str
    status: str
    customer_email: str
    lines: list[LineOut]
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    total_cents: int
    total: str
    charge_id: str | None
    failure_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        quote = order.quote
        return cls(
            id=order.id,
            status=order.status.value,
            customer_email=order.customer_email,
            lines=[LineOut(**vars(line)) for line in order.lines],
            subtotal_cents=quote.subtotal_cents,
            discount_cents=quote.discount_cents,
            shipping_cents=quote.shipping_cents,
            total_cents=quote.total_cents,
            total=format_money(quote.total_cents),
            charge_id=order.charge_id,
            failure_reason=order.failure_reason,
            created_at=order.created_at,
        )


class ProductOut(BaseModel):
    sku: str
    name: str
    price_cents: int
    price: str
    stock: int

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls(price=format_money(product.price_cents), **vars(product))


class ErrorOut(BaseModel):
    """Every error has this shape, so clients can branch on ``error`` without parsing text."""

    error: str
    detail: str | list[dict[str, object]]
    order_id: str | None = None
