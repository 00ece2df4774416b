"""Three ways to get rows into PostgreSQL, from slowest to fastest, and the seed that uses COPY."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql

from . import schema
from .dataset import Dataset, Row


def _insert(table: str, columns: Sequence[str]) -> sql.Composed:
    return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )


def insert_row_by_row(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Row]
) -> None:
    """One INSERT and one network round trip per row: what an ORM loop does by default."""
    stmt = _insert(table, columns)
    with conn.cursor() as cur:
        for row in rows:
            cur.execute(stmt, row)


def insert_executemany(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Row]
) -> None:
    """The same INSERT, but psycopg 3 pipelines it: statements are sent without waiting
    for each answer, so the round trips overlap."""
    with conn.cursor() as cur:
        cur.executemany(_insert(table, columns), rows)


def copy_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Row]
) -> None:
    """COPY streams rows in one statement: no per-row parsing, planning or round trip."""
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)


def seed(conn: psycopg.Connection, data: Dataset) -> dict[str, int]:
    """Recreate the schema and COPY every table in one transaction, then refresh statistics.

    `conn` must not be in autocommit mode; it is switched on only for VACUUM, which
    PostgreSQL refuses to run inside a transaction block.
    """
    with conn.transaction():
        schema.create(conn)
        for table, columns in schema.COLUMNS.items():
            copy_rows(conn, table, columns, data.tables.get(table, []))
    # VACUUM sets the visibility map (index-only scans need it); ANALYZE gathers the
    # statistics the planner estimates with. A fresh bulk load has neither.
    conn.autocommit = True
    try:
        tables = sql.SQL(", ").join(sql.Identifier(schema.SCHEMA, t) for t in schema.COLUMNS)
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(tables))
    finally:
        conn.autocommit = False
    return {table: data.count(table) for table in schema.COLUMNS}
