"""The bench's transform of one CSV export, three ways: the same cleaning, validation and
de-duplication in per-record Python (the pipeline's own code), polars and DuckDB."""

from __future__ import annotations

from pathlib import Path

from etl.extract import read_csv
from etl.records import RawRecord, clean

CURRENCIES = ("EUR", "USD", "GBP")
EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"


def transform_python(path: Path) -> int:
    newest: dict[str, object] = {}
    for item in read_csv(path):
        if isinstance(item, RawRecord) and isinstance(row := clean(item), dict):
            seen = newest.get(row["order_id"])  # type: ignore[arg-type]
            if seen is None or row["updated_at"] > seen["updated_at"]:  # type: ignore[index,operator]
                newest[row["order_id"]] = row  # type: ignore[index]
    return len(newest)


def transform_polars(path: Path) -> int:
    import polars as pl

    ts = pl.Datetime("us", "UTC")
    frame = (
        pl.scan_csv(path, infer_schema=False)
        .with_columns(
            pl.col("order_id").str.strip_chars(),
            pl.col("customer_email").str.strip_chars().str.to_lowercase(),
            pl.col("amount").str.strip_chars().cast(pl.Decimal(12, 2), strict=False),
            pl.col("currency").str.strip_chars().str.to_uppercase(),
            pl.col("ordered_at").str.to_datetime(strict=False, time_zone="UTC").cast(ts),
            pl.col("updated_at").str.to_datetime(strict=False, time_zone="UTC").cast(ts),
        )
        .filter(
            pl.col("order_id").str.contains(r"^[A-Z]-\d{1,12}$")
            & pl.col("customer_email").str.contains(EMAIL)
            & (pl.col("amount") > 0) & (pl.col("amount") <= 1_000_000)
            & pl.col("currency").is_in(CURRENCIES)
            & (pl.col("updated_at") >= pl.col("ordered_at"))
        )
        .sort("updated_at")
        .unique("order_id", keep="last")
    )  # fmt: skip
    return frame.select(pl.len()).collect().item()


def transform_duckdb(path: Path) -> int:
    import duckdb

    sql = f"""
        WITH raw AS (SELECT * FROM read_csv('{path}', all_varchar = true, header = true,
                                            ignore_errors = true)),
        cleaned AS (
            SELECT trim(order_id) AS order_id, lower(trim(customer_email)) AS email,
                   TRY_CAST(trim(amount) AS DECIMAL(12, 2)) AS amount,
                   upper(trim(currency)) AS currency,
                   TRY_CAST(ordered_at AS TIMESTAMPTZ) AS ordered_at,
                   TRY_CAST(updated_at AS TIMESTAMPTZ) AS updated_at
            FROM raw),
        valid AS (
            SELECT * FROM cleaned
            WHERE regexp_matches(order_id, '^[A-Z]-\\d{{1,12}}$')
              AND regexp_matches(email, '{EMAIL}') AND amount > 0 AND amount <= 1000000
              AND currency IN {CURRENCIES} AND updated_at >= ordered_at)
        SELECT count(DISTINCT order_id) FROM valid"""
    with duckdb.connect() as conn:
        return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]
