"""Backfill a new column on a live table: one big UPDATE, or many short transactions.

This is the middle step of an expand/contract change. Expand added a nullable
`email_lower` column and the new app version already writes it for the rows it
touches; the backfill fills in the old rows; contract then makes it NOT NULL.
A row the app already filled is left alone (`WHERE email_lower IS NULL`), so a
backfill that dies half-way can simply be run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Update,
    func,
    select,
    update,
)


def member_emails_table(name: str, metadata: MetaData | None = None) -> Table:
    """The table shape the backfill works on: id, email and the new email_lower."""
    return Table(
        name,
        metadata or MetaData(),
        # BIGINT on PostgreSQL; SQLite only auto-numbers a column typed exactly INTEGER.
        Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("email", String(320), nullable=False),
        Column("email_lower", String(320)),
    )


@dataclass(frozen=True)
class BackfillResult:
    rows: int
    transactions: int


def _fill(table: Table) -> Update:
    return (
        update(table)
        .where(table.c.email_lower.is_(None))
        .values(email_lower=func.lower(table.c.email))
    )


def backfill_in_one_statement(engine: Engine, table: Table) -> BackfillResult:
    """One UPDATE, one transaction: every row it touches stays locked until it commits.

    A writer that wants to change any of those rows waits for the whole backfill.
    """
    with engine.begin() as connection:
        rows = connection.execute(_fill(table)).rowcount
    return BackfillResult(rows=rows, transactions=1)


def backfill_in_batches(engine: Engine, table: Table, batch_size: int) -> BackfillResult:
    """One short transaction per range of `batch_size` ids.

    Each commit releases that batch's row locks, so a writer waits for one batch at most.
    Ranges of the primary key (not OFFSET, not `IS NULL LIMIT n`) make every batch an
    index range scan: the last batch costs the same as the first.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    with engine.connect() as connection:
        low, high = connection.execute(select(func.min(table.c.id), func.max(table.c.id))).one()
    if low is None:
        return BackfillResult(rows=0, transactions=0)
    rows = transactions = 0
    # Rows inserted after this point have ids above `high`; the new app version
    # already writes their email_lower, so the backfill need not chase them.
    for start in range(low, high + 1, batch_size):
        with engine.begin() as connection:
            statement = _fill(table).where(table.c.id >= start, table.c.id < start + batch_size)
            rows += connection.execute(statement).rowcount
        transactions += 1
    return BackfillResult(rows=rows, transactions=transactions)
