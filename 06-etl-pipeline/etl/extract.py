"""Extract: three sources, each streamed - never the whole input in memory (the HTTP API's
extractor is in extract_api.py).

Every extractor yields RawRecord (fields renamed to the pipeline's names) or Reject (a record
that cannot even be read as one: a malformed CSV line). Each takes a watermark and yields what
is newer; `ordered` says whether it yields in watermark order, which decides when the pipeline
may advance the watermark (per batch, or only once the whole source is read).
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy import tuple_ as row

from etl.records import RawRecord


class SourceError(Exception):
    """A source that cannot be read at all: the run fails with this one line."""


@dataclass(frozen=True)
class Reject:
    source: str
    position: str
    raw: str
    reason: str


@dataclass(frozen=True)
class Mark:
    """A watermark: the (updated_at, id) of the newest row already loaded from a source."""

    updated_at: datetime
    last_id: str


Item = RawRecord | Reject

# ---------------------------------------------------------------- CSV exports

# Header drift: the same column under the names the exports have used over the years.
CSV_ALIASES = {
    "order_id": "order_id", "order id": "order_id", "id": "order_id",
    "customer_email": "customer_email", "e-mail": "customer_email", "email": "customer_email",
    "amount": "amount", "total": "amount",
    "currency": "currency", "curr": "currency",
    "ordered_at": "ordered_at", "order date": "ordered_at",
    "updated_at": "updated_at", "last change": "updated_at",
}  # fmt: skip
REQUIRED = ("order_id", "customer_email", "amount", "currency", "ordered_at", "updated_at")
# Naive timestamps in the store exports are the shops' local time.
CSV_ZONE = ZoneInfo("Europe/Berlin")


def sniff_encoding(path: Path, probe: int = 1 << 20) -> str:
    """UTF-8 (with or without BOM) when the first MiB decodes as UTF-8, else Windows-1252."""
    with path.open("rb") as f:
        head = f.read(probe)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def read_csv(path: Path) -> Iterator[Item]:
    encoding = sniff_encoding(path)
    try:
        with path.open(newline="", encoding=encoding) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                return
            names = [CSV_ALIASES.get(h.strip().lower()) for h in header]
            missing = [c for c in REQUIRED if c not in names]
            if missing:
                raise SourceError(f"csv: {path.name} has no column for {', '.join(missing)}")
            for fields in reader:
                where = f"{path.name}:{reader.line_num}"
                if len(fields) != len(header):
                    reason = f"expected {len(header)} fields, got {len(fields)}"
                    yield Reject("csv", where, json.dumps(fields), reason)
                    continue
                data = {n: v for n, v in zip(names, fields, strict=True) if n}
                yield RawRecord("csv", where, data, CSV_ZONE)
    except UnicodeDecodeError as exc:
        raise SourceError(f"csv: {path.name} is not {encoding} at byte {exc.start}") from None
    except csv.Error as exc:
        raise SourceError(f"csv: {path.name}: {exc}") from None


def csv_source(folder: Path) -> Iterator[Item]:
    """Every export in the folder; the CSV cannot filter by watermark, the pipeline does."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise SourceError(f"csv: no *.csv files in {folder} (run: python main.py generate)")
    for path in files:
        yield from read_csv(path)


# ---------------------------------------------------------------- the source database

POS = MetaData()
pos_orders = Table(
    "pos_orders",
    POS,
    Column("id", Integer, primary_key=True),
    Column("email", String(254)),
    Column("amount_cents", Integer),
    Column("currency", String(3)),
    Column("ordered_at", DateTime),  # naive UTC: what the point-of-sale system writes
    Column("updated_at", DateTime, index=True),
)


def db_source(url: str, since: Mark | None, batch: int) -> Iterator[Item]:
    """Rows newer than the watermark, in watermark order, fetched `batch` at a time.

    stream_results + yield_per keep a server-side cursor on PostgreSQL (and fetch lazily on
    SQLite), so a million-row table never sits in memory at once.
    """
    engine = create_engine(url)
    query = select(pos_orders).order_by(pos_orders.c.updated_at, pos_orders.c.id)
    if since is not None:
        mark = (since.updated_at.replace(tzinfo=None), int(since.last_id.removeprefix("P-")))
        query = query.where(row(pos_orders.c.updated_at, pos_orders.c.id) > row(*mark))
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            for r in result:
                data = {
                    "order_id": f"P-{r.id}",
                    "customer_email": r.email,
                    "amount": "" if r.amount_cents is None else f"{r.amount_cents / 100:.2f}",
                    "currency": r.currency,
                    "ordered_at": r.ordered_at,
                    "updated_at": r.updated_at,
                }
                yield RawRecord("db", f"pos_orders.id={r.id}", data)
    except Exception as exc:  # noqa: BLE001 - any driver error is "this source failed"
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise SourceError(f"db: {first}") from None
    finally:
        engine.dispose()
