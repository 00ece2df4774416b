"""The batched backfill fills every old row once, keeps rows the app wrote, and can resume."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, Table, delete, insert, select

from evolve.backfill import backfill_in_batches, backfill_in_one_statement, member_emails_table
from evolve.runner import make_engine


def _table_with_rows(url: str, count: int) -> Table:
    metadata = MetaData()
    table = member_emails_table("backfill_members", metadata)
    engine = make_engine(url)
    metadata.create_all(engine)
    rows = [{"email": f"User{i}@Example.TEST"} for i in range(1, count + 1)]
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(table), rows)
    return table


def _email_lower_by_id(url: str, table: Table) -> dict[int, str | None]:
    with make_engine(url).connect() as connection:
        rows = connection.execute(select(table.c.id, table.c.email_lower)).all()
        return {row.id: row.email_lower for row in rows}


def test_batches_fill_every_row_across_id_gaps(database_url: str) -> None:
    table = _table_with_rows(database_url, 10)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(delete(table).where(table.c.id.in_([4, 5])))

    result = backfill_in_batches(engine, table, batch_size=3)

    # ids 1..10 in ranges of 3: [1-3] [4-6] [7-9] [10]; the gap still costs a transaction.
    assert result.transactions == 4
    assert result.rows == 8
    filled = _email_lower_by_id(database_url, table)
    assert filled == {i: f"user{i}@example.test" for i in (1, 2, 3, 6, 7, 8, 9, 10)}


def test_rows_the_app_already_wrote_are_left_alone_and_a_rerun_is_a_no_op(
    database_url: str,
) -> None:
    table = _table_with_rows(database_url, 5)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        # The new app version set this row's email_lower itself while the backfill was pending.
        connection.execute(table.update().where(table.c.id == 2).values(email_lower="kept"))

    assert backfill_in_batches(engine, table, batch_size=2).rows == 4
    assert _email_lower_by_id(database_url, table)[2] == "kept"
    # Resuming after a crash = running it again: nothing left to do.
    assert backfill_in_batches(engine, table, batch_size=2).rows == 0


def test_one_statement_fills_the_same_rows_in_one_transaction(database_url: str) -> None:
    table = _table_with_rows(database_url, 7)
    engine = make_engine(database_url)

    result = backfill_in_one_statement(engine, table)

    assert (result.rows, result.transactions) == (7, 1)
    assert set(_email_lower_by_id(database_url, table).values()) == {
        f"user{i}@example.test" for i in range(1, 8)
    }


def test_empty_table_and_bad_batch_size(database_url: str) -> None:
    table = _table_with_rows(database_url, 0)
    engine = make_engine(database_url)
    assert backfill_in_batches(engine, table, batch_size=100).transactions == 0
    with pytest.raises(ValueError, match="at least 1"):
        backfill_in_batches(engine, table, batch_size=0)
