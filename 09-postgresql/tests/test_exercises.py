"""Tests for the README's exercises. Deselected by default; run them with
`pytest -m exercise` once you have written the code they describe. They fail until then."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from shopdb import db, indexes, isolation, jobqueue, plans, queries

pytestmark = [pytest.mark.exercise, pytest.mark.postgres]


def test_1_top_products_with_lateral(shop: psycopg.Connection) -> None:
    lateral = queries.run(shop, queries.QUERIES["top_products_lateral"])
    ranked = queries.run(shop, queries.QUERIES["top_products"])

    assert [row[:3] for row in lateral.rows] == [row[:3] for row in ranked.rows]
    assert "LATERAL" in queries.QUERIES["top_products_lateral"].sql.upper()


def test_2_phantom_rows_under_repeatable_read(connect: db.Connect) -> None:
    # Count on-call doctors twice while another session inserts one and commits.
    # getattr: the function does not exist until you write it (and type checkers know it).
    phantom_read = getattr(isolation, "phantom_read")  # noqa: B009
    assert phantom_read(connect, isolation.IsolationLevel.READ_COMMITTED) == (2, 3)
    assert phantom_read(connect, isolation.IsolationLevel.REPEATABLE_READ) == (2, 2)


def test_3_failing_job_is_dead_lettered_after_three_attempts(connect: db.Connect) -> None:
    def crash(payload: dict[str, Any]) -> None:
        raise RuntimeError("always fails")

    with connect() as conn:
        jobqueue.reset(conn)
        jobqueue.enqueue(conn, [{"n": 1}])
        for _ in range(3):
            with pytest.raises(RuntimeError):
                jobqueue.work_one(conn, "w0", crash)
        assert jobqueue.work_one(conn, "w0", crash) is None  # not offered a 4th time
        row = conn.execute("SELECT status, attempts FROM jobs").fetchone()
        assert row == ("failed", 3)


def test_4_index_for_one_customers_pending_orders(generated_url: str) -> None:
    demo = indexes.INDEX_DEMOS["customer_pending"]
    with db.connect(generated_url) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.commit()
        cmp = indexes.compare(conn, demo)

    assert "WHERE" in demo.ddl.upper()  # a partial index
    assert demo.index in plans.index_scans(cmp.after)
