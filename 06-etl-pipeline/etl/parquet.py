"""The file target: the orders table as Parquet, partitioned by order date.

Written from a streamed query in record batches, so memory stays flat; each run replaces the
partitions it writes (delete_matching), so a rerun leaves the same files, not twice the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
from sqlalchemy import Engine, select

from etl.schema import Order

SCHEMA = pa.schema([
    ("order_id", pa.string()), ("source", pa.string()), ("customer_email", pa.string()),
    ("amount", pa.decimal128(12, 2)), ("currency", pa.string()),
    ("amount_eur", pa.decimal128(12, 2)), ("ordered_at", pa.timestamp("us", tz="UTC")),
    ("updated_at", pa.timestamp("us", tz="UTC")), ("order_date", pa.date32()),
])  # fmt: skip


def batches(engine: Engine, size: int) -> Iterator[pa.RecordBatch]:
    query = select(Order.__table__).order_by(Order.order_id)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=size).execute(query)
        for part in result.partitions():
            cols: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
            for r in part:
                for name in SCHEMA.names[:-1]:
                    cols[name].append(getattr(r, name))
                cols["order_date"].append(r.ordered_at.date())
            yield pa.RecordBatch.from_pydict(cols, schema=SCHEMA)


def export(engine: Engine, folder: Path, size: int = 50_000) -> int:
    """Write every order under folder/order_date=YYYY-MM-DD/; returns the row count."""
    written = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal written
        for batch in batches(engine, size):
            written += batch.num_rows
            yield batch

    ds.write_dataset(
        counted(), folder, schema=SCHEMA, format="parquet",
        partitioning=ds.partitioning(pa.schema([("order_date", pa.date32())]), flavor="hive"),
        existing_data_behavior="delete_matching",
        max_rows_per_group=size,
    )  # fmt: skip
    return written


def read_back(folder: Path) -> pa.Table:
    return ds.dataset(folder, format="parquet", partitioning="hive").to_table()
