"""The order events every transport in this lesson carries, serialised as JSON."""

from __future__ import annotations

from typing import Literal
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["created", "paid", "shipped", "cancelled"]


class OrderEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # The message id: consumers deduplicate on it, so a redelivery is recognised as one.
    id: str = Field(default_factory=lambda: uuid4().hex, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    kind: Kind
    order_id: int = Field(ge=1)
    product_id: int = Field(ge=1)
    quantity: int = Field(default=1, ge=1, le=1_000)

    @property
    def routing_key(self) -> str:
        return f"order.{self.kind}"

    def fields(self) -> dict[str, str]:
        """The flat string map a Redis stream entry holds."""
        return {"event": self.model_dump_json()}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> OrderEvent:
        return cls.model_validate_json(fields["event"])
