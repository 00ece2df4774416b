"""Sample inputs with known defects: two CSV exports, the API's data and the POS database.

Written row by row, so a million rows need no more memory than ten. The seed makes the defects
land on the same rows every time, so tests can count them.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert

from etl.extract import POS, pos_orders

START = datetime(2026, 1, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
DEFECTS = ("email", "amount", "currency", "date", "order")  # one in 50 rows has one of these


@dataclass
class Manifest:
    """What was written, so tests know what to expect."""

    rows: dict[str, int] = field(default_factory=dict)
    defects: dict[str, int] = field(default_factory=dict)  # by source
    malformed_lines: int = 0
    cross_duplicates: int = 0  # CSV rows that repeat an API order (an older version)


def orders(rng: random.Random, prefix: str, n: int) -> Iterator[dict[str, object]]:
    for i in range(1, n + 1):
        ordered = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 180))
        yield {
            "id": f"{prefix}-{i}",
            "email": f"  Customer{rng.randrange(10_000)}@Example.com ",
            "amount": f"{rng.randrange(100, 100_000) / 100:.2f}",
            "currency": rng.choice(("EUR", "EUR", "USD", "GBP")),
            "ordered": ordered,
            "updated": ordered + timedelta(minutes=rng.randrange(0, 600)),
        }


def spoil(rng: random.Random, row: dict[str, object]) -> bool:
    """One row in 50 gets one defect a real export has; True when it did."""
    if rng.random() >= 0.02:
        return False
    kind = rng.choice(DEFECTS)
    if kind == "email":
        row["email"] = "not-an-email"
    elif kind == "amount":
        row["amount"] = "-5.00"
    elif kind == "currency":
        row["currency"] = "XYZ"
    elif kind == "date":
        row["updated"] = "yesterday"
    else:  # updated before ordered
        row["updated"] = row["ordered"] - timedelta(days=1)  # type: ignore[operator]
    return True


def generate(data_dir: Path, rows: int, seed: int = 7) -> Manifest:
    rng = random.Random(seed)
    m = Manifest()
    n_csv, n_api = rows // 2, rows * 3 // 10
    n_db = rows - n_csv - n_api
    inputs = data_dir / "input"
    inputs.mkdir(parents=True, exist_ok=True)
    for old in inputs.glob("*.csv"):
        old.unlink()

    # The API's data, kept aside: the CSV export repeats some of its orders.
    api_path = data_dir / "api_orders.jsonl"
    api_sample: list[dict[str, object]] = []
    with api_path.open("w", encoding="utf-8") as f:
        for row in orders(rng, "W", n_api):
            m.defects["api"] = m.defects.get("api", 0) + spoil(rng, row)
            if len(api_sample) < 1000 and rng.random() < 0.05:
                api_sample.append(dict(row))
            f.write(json.dumps({
                "id": row["id"], "email": row["email"], "total": row["amount"],
                "currency": row["currency"], "created": iso(row["ordered"]),
                "modified": iso(row["updated"]),
            }) + "\n")  # fmt: skip
    m.rows["api"] = n_api

    # Store exports: a current one (UTF-8) and a legacy one (Windows-1252, other header names,
    # day-first local times) - the header drift the extractor must absorb.
    modern = n_csv * 4 // 5
    with (inputs / "orders_2026.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["order_id", "customer_email", "amount", "currency", "ordered_at", "updated_at"])
        for i, row in enumerate(orders(rng, "C", modern)):
            m.defects["csv"] = m.defects.get("csv", 0) + spoil(rng, row)
            if i % 500 == 250:  # a line cut short: one field missing
                w.writerow(
                    [row["id"], row["email"], row["amount"], row["currency"], iso(row["ordered"])]
                )
                m.malformed_lines += 1
                continue
            w.writerow([row["id"], row["email"], row["amount"], row["currency"],
                        iso(row["ordered"]), iso(row["updated"])])  # fmt: skip
        for dup in api_sample:  # web orders that also reached a store export, an older version
            if not isinstance(dup["updated"], datetime):  # a spoiled API row: not repeated
                continue
            older = dup["updated"] - timedelta(minutes=1)  # type: ignore[operator]
            if older < dup["ordered"] or dup["currency"] == "XYZ" or dup["email"] == "not-an-email":
                continue
            if str(dup["amount"]).startswith("-"):
                continue
            w.writerow([dup["id"], dup["email"], dup["amount"], dup["currency"],
                        iso(dup["ordered"]), iso(older)])  # fmt: skip
            m.cross_duplicates += 1
    with (inputs / "orders_legacy.csv").open("w", newline="", encoding="cp1252") as f:
        w = csv.writer(f)
        w.writerow(["Last Change", "Order ID", "E-Mail", "Total", "Curr", "Order Date"])
        for row in orders(rng, "L", n_csv - modern):
            m.defects["csv"] = m.defects.get("csv", 0) + spoil(rng, row)
            email = str(row["email"]).replace("Customer", "Müller", 1)  # not ASCII, fine in 1252
            w.writerow([legacy(row["updated"]), row["id"], email, row["amount"], row["currency"],
                        legacy(row["ordered"])])  # fmt: skip
    m.rows["csv"] = n_csv + m.cross_duplicates

    # The point-of-sale database: amounts in cents, naive UTC timestamps.
    db_path = data_dir / "source.db"
    db_path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{db_path}")
    POS.create_all(engine)
    with engine.begin() as conn:
        chunk: list[dict[str, object]] = []
        for i, row in enumerate(orders(rng, "P", n_db), start=1):
            m.defects["db"] = m.defects.get("db", 0) + spoil(rng, row)
            amount = str(row["amount"])
            chunk.append({
                "id": i, "email": row["email"], "currency": row["currency"],
                "amount_cents": round(float(amount) * 100),
                "ordered_at": naive_utc(row["ordered"]), "updated_at": naive_utc(row["updated"]),
            })  # fmt: skip
            if len(chunk) == 5000:
                conn.execute(insert(pos_orders), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(pos_orders), chunk)
    engine.dispose()
    m.rows["db"] = n_db
    (data_dir / "manifest.json").write_text(json.dumps(m.__dict__, indent=1))
    return m


def iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def legacy(value: object) -> str:
    """The old export's form: day-first, minutes only, in Berlin time, no zone."""
    if isinstance(value, datetime):
        return value.astimezone(BERLIN).strftime("%d/%m/%Y %H:%M")
    return str(value)


def naive_utc(value: object) -> object:
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else None
