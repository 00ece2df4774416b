"""Transform: every source's records are cleaned the same way, and a rejection says why."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from etl.records import RawRecord, clean

GOOD = {
    "order_id": " W-12 ", "customer_email": "  Ada@Example.COM ", "amount": "10.005",
    "currency": "usd", "ordered_at": "2026-03-01T10:00:00+00:00",
    "updated_at": "2026-03-01T11:00:00Z",
}  # fmt: skip


def test_a_good_record_is_trimmed_lower_cased_rounded_and_converted() -> None:
    row = clean(RawRecord("api", "id=W-12", GOOD))

    assert isinstance(row, dict)
    assert row["order_id"] == "W-12" and row["customer_email"] == "ada@example.com"
    assert row["amount"] == Decimal("10.00")  # banker's rounding of 10.005
    assert row["currency"] == "USD" and row["amount_eur"] == Decimal("9.20")
    assert row["updated_at"] == datetime(2026, 3, 1, 11, tzinfo=UTC)


def test_naive_local_times_become_utc_in_the_sources_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    legacy = {**GOOD, "ordered_at": "01/07/2026 12:00", "updated_at": "01/07/2026 12:30"}

    row = clean(RawRecord("csv", "old.csv:2", legacy, berlin))

    assert isinstance(row, dict)
    assert row["ordered_at"] == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # CEST is UTC+2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"order_id": "12"}, "order_id: not an order id"),
        ({"customer_email": "not-an-email"}, "customer_email: not an email address"),
        ({"amount": "-5.00"}, "amount: must be more than 0"),
        ({"amount": "NaN"}, "amount: Input should be a finite number"),
        ({"amount": "lots"}, "amount: Input should be a valid decimal"),
        ({"currency": "XYZ"}, "currency: unknown currency"),
        ({"updated_at": "yesterday"}, "updated_at: Input should be a valid datetime"),
        ({"updated_at": "2026-02-01T00:00:00Z"}, "updated before it was ordered"),
        ({"customer_email": None}, "customer_email: Input should be a valid string"),
    ],
)
def test_a_bad_value_is_rejected_with_the_field_and_the_reason(
    change: dict[str, object], reason: str
) -> None:
    result = clean(RawRecord("api", "id=W-12", {**GOOD, **change}))

    assert isinstance(result, str) and result.startswith(reason)
