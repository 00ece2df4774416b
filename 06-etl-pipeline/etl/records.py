"""Transform: one pydantic model every source's records must pass, and what a rejection says.

Each extractor renames its own fields to these names; this model cleans and checks the values
the same way for all of them, so "valid" means one thing whatever the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError, field_validator, model_validator

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
ORDER_ID = re.compile(r"^[A-Z]-\d{1,12}$")
CENT = Decimal("0.01")
# A lookup every record goes through; a real pipeline would read it from a rates table.
EUR_PER = {"EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}


@dataclass(frozen=True)
class RawRecord:
    source: str  # csv | api | db
    position: str  # where a person finds it: file:line, page cursor and index, table id
    data: dict[str, Any]  # already renamed to OrderIn's field names
    zone: ZoneInfo = ZoneInfo("UTC")  # how the source's naive timestamps are meant


class OrderIn(BaseModel):
    order_id: str
    customer_email: str
    amount: Decimal
    currency: str
    ordered_at: datetime
    updated_at: datetime

    @field_validator("order_id", "customer_email", "currency", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("order_id")
    @classmethod
    def _order_id(cls, value: str) -> str:
        if not ORDER_ID.match(value):
            raise ValueError("not an order id like W-1234")
        return value

    @field_validator("customer_email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.lower()
        if not EMAIL.match(value):
            raise ValueError("not an email address")
        return value

    @field_validator("amount")
    @classmethod
    def _money(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0 or value > 1_000_000:
            raise ValueError("must be more than 0 and at most 1,000,000")
        return value.quantize(CENT, rounding=ROUND_HALF_EVEN)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.upper()
        if value not in EUR_PER:
            raise ValueError(f"unknown currency (known: {', '.join(EUR_PER)})")
        return value

    @model_validator(mode="after")
    def _in_order(self) -> OrderIn:
        if self.updated_at < self.ordered_at:
            raise ValueError("updated before it was ordered")
        return self


def clean(record: RawRecord) -> dict[str, Any] | str:
    """The target row for a valid record, or the reason it was rejected (one line)."""
    data = dict(record.data)
    for key in ("ordered_at", "updated_at"):
        data[key] = to_utc(data.get(key), record.zone)
    try:
        order = OrderIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    row = order.model_dump()
    row["source"] = record.source
    row["amount_eur"] = (order.amount * EUR_PER[order.currency]).quantize(CENT)
    return row


def to_utc(value: object, zone: ZoneInfo) -> object:
    """A timestamp string or datetime, naive ones read in the source's zone, as aware UTC.

    Anything unreadable is passed on unchanged so the model reports it as the field's error.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            try:
                value = datetime.strptime(text, "%d/%m/%Y %H:%M")  # the legacy export's form
            except ValueError:
                return text
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    return value
