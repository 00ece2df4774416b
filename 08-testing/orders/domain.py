"""Business rules of the orders service: pure functions and value objects, no I/O.

Money is an ``int`` number of cents everywhere. Floats cannot represent 0.10 exactly, and a
pricing rule that is off by a cent on one order in a thousand is the kind of bug only a
property-based test finds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

MAX_QUANTITY = 100
BULK_QUANTITY = 10  # a line with this many units gets the bulk discount
BULK_PERCENT = 5
MAX_COUPON_PERCENT = 50
FREE_SHIPPING_FROM = 50_00  # cents, after discounts
SHIPPING_FEE = 4_99

_MONEY = re.compile(r"(?P<units>\d{1,9})(?:\.(?P<cents>\d{2}))?")


class DomainError(Exception):
    """A business rule said no. ``code`` is stable so the API can expose it."""

    code = "domain_error"


class EmptyOrder(DomainError):
    code = "empty_order"


class InvalidQuantity(DomainError):
    code = "invalid_quantity"


class OutOfStock(DomainError):
    code = "out_of_stock"

    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"{sku}: requested {requested}, only {available} in stock")
        self.sku, self.requested, self.available = sku, requested, available


class CouponExpired(DomainError):
    code = "coupon_expired"


class CouponNotApplicable(DomainError):
    code = "coupon_not_applicable"


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PAYMENT_FAILED = "payment_failed"


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price_cents: int
    stock: int


@dataclass(frozen=True)
class Coupon:
    code: str
    percent_off: int
    expires_at: datetime
    min_subtotal_cents: int = 0

    def __post_init__(self) -> None:
        # Validate at construction: an invalid coupon must not exist, so pricing can trust it.
        if not 1 <= self.percent_off <= MAX_COUPON_PERCENT:
            raise ValueError(f"percent_off must be 1..{MAX_COUPON_PERCENT}, got {self.percent_off}")


@dataclass(frozen=True)
class LineItem:
    sku: str
    quantity: int
    unit_price_cents: int

    @property
    def gross_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class Quote:
    """What the customer pays, broken down so every number can be checked on its own."""

    subtotal_cents: int
    discount_cents: int
    shipping_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents + self.shipping_cents


@dataclass
class Order:
    id: str
    customer_email: str
    lines: list[LineItem]
    quote: Quote
    created_at: datetime
    status: OrderStatus = OrderStatus.PENDING_PAYMENT
    charge_id: str | None = None
    failure_reason: str | None = field(default=None)


def bulk_discount(line: LineItem) -> int:
    """Cents off one line for buying in bulk; rounded down so we never over-discount."""
    if line.quantity >= BULK_QUANTITY:
        return line.gross_cents * BULK_PERCENT // 100
    return 0


def price_order(lines: Sequence[LineItem], coupon: Coupon | None, now: datetime) -> Quote:
    """Price an order: bulk discounts per line, then the coupon on what is left, then shipping."""
    if not lines:
        raise EmptyOrder("an order needs at least one line")
    # The limit is per product, not per line: two lines of 60 mugs are an order of 120 mugs.
    for line in lines:
        if line.quantity < 1:
            raise InvalidQuantity(f"{line.sku}: quantity must be at least 1")
    for sku, quantity in requested_quantities(lines).items():
        if quantity > MAX_QUANTITY:
            raise InvalidQuantity(f"{sku}: {quantity} units, at most {MAX_QUANTITY} per order")
    subtotal = sum(line.gross_cents for line in lines)
    discount = sum(bulk_discount(line) for line in lines)
    if coupon is not None:
        if now >= coupon.expires_at:
            raise CouponExpired(f"coupon {coupon.code} expired at {coupon.expires_at:%Y-%m-%d}")
        if subtotal < coupon.min_subtotal_cents:
            minimum = format_money(coupon.min_subtotal_cents)
            raise CouponNotApplicable(f"coupon {coupon.code} needs a subtotal of {minimum}")
        # The coupon applies to the already-discounted amount: discounts compound, never add
        # up past the price. That is the invariant the property tests hammer on.
        discount += (subtotal - discount) * coupon.percent_off // 100
    shipping = 0 if subtotal - discount >= FREE_SHIPPING_FROM else SHIPPING_FEE
    return Quote(subtotal_cents=subtotal, discount_cents=discount, shipping_cents=shipping)


def requested_quantities(lines: Iterable[LineItem]) -> Counter[str]:
    """Units per SKU; the same SKU on two lines counts against stock once, summed."""
    wanted: Counter[str] = Counter()
    for line in lines:
        wanted[line.sku] += line.quantity
    return wanted


def reserve_stock(products: Mapping[str, Product], lines: Iterable[LineItem]) -> dict[str, int]:
    """Return the stock left per SKU after this order, or raise if any SKU runs short.

    All-or-nothing: the check runs for every SKU before anything is returned, so the caller
    never applies half a reservation.
    """
    left: dict[str, int] = {}
    for sku, quantity in requested_quantities(lines).items():
        available = products[sku].stock
        if quantity > available:
            raise OutOfStock(sku, quantity, available)
        left[sku] = available - quantity
    return left


def release_stock(stock: Mapping[str, int], lines: Iterable[LineItem]) -> dict[str, int]:
    """The inverse of ``reserve_stock``: give reserved units back (a failed payment)."""
    return {sku: stock[sku] + quantity for sku, quantity in requested_quantities(lines).items()}


def format_money(cents: int) -> str:
    """1234 -> "12.34". Negative amounts keep their sign in front: -5 -> "-0.05"."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units}.{rest:02d}"


def parse_money(text: str) -> int:
    """ "12.34" -> 1234, "12" -> 1200. Rejects anything else rather than guessing."""
    match = _MONEY.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an amount: {text!r} (expected e.g. 12.99)")
    return int(match["units"]) * 100 + int(match["cents"] or 0)
