"""Plans before and after each index, read from EXPLAIN (FORMAT JSON).

The generated shop at scale 1 is small: on tables of a few dozen pages the planner would
rightly prefer a sequential scan even with the index. `enable_seqscan = off` does not
forbid sequential scans, it makes them look very expensive - so the plan uses the index
whenever the index CAN answer the query, and still seq-scans when nothing else exists.
That is exactly the property under test, and it makes the plans independent of table size.
The selectivity test below runs without it: there the planner's own choice is the point.

Every session here runs on PostgreSQL's built-in cost settings (PLANNER_DEFAULTS): which
kind of index scan wins depends on them, and servers are often tuned otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from shopdb import db, indexes, plans

pytestmark = pytest.mark.postgres

# What reads the index once it exists. Bitmap scans for GIN and BRIN (they cannot return
# rows in order one by one), and for GiST here by cost: the few matches are sorted after;
# an index-only scan when the index covers every column used.
EXPECTED_SCAN = {
    "composite": "Index Scan",
    "partial": "Index Scan",
    "covering": "Index Only Scan",
    "expression": "Index Scan",
    "jsonb": "Bitmap Index Scan",
    "fulltext": "Bitmap Index Scan",
    "trigram": "Bitmap Index Scan",
    "gist": "Bitmap Index Scan",
    "brin": "Bitmap Index Scan",
}


# PostgreSQL's built-in planner costs. Servers are often tuned away from them (SSD and
# managed servers commonly run random_page_cost = 1.1), and that rightly changes which
# scan node wins: for 2% of the orders a bitmap scan becomes a plain index scan, say.
# Set in the test's own session, so the plans asserted below are the ones the README
# describes, whatever the server's postgresql.conf says.
PLANNER_DEFAULTS = {
    "seq_page_cost": "1",
    "random_page_cost": "4",
    "cpu_tuple_cost": "0.01",
    "cpu_index_tuple_cost": "0.005",
    "cpu_operator_cost": "0.0025",
    "effective_cache_size": "4GB",
    # A parallel plan would wrap the scan in Gather; at the default thresholds a table
    # of a few hundred pages is far too small for one.
    "parallel_setup_cost": "1000",
    "parallel_tuple_cost": "0.1",
    "min_parallel_table_scan_size": "8MB",
    "min_parallel_index_scan_size": "512kB",
}


@pytest.fixture
def generated(generated_url: str) -> Iterator[psycopg.Connection]:
    with db.connect(generated_url) as conn:
        for name, value in PLANNER_DEFAULTS.items():
            stmt = sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            conn.execute(stmt)
        conn.commit()  # session-wide: a SET in a transaction that rolls back is undone
        yield conn


@pytest.fixture
def no_seqscan(generated: psycopg.Connection) -> psycopg.Connection:
    generated.execute("SET enable_seqscan = off")
    generated.commit()  # a SET inside a transaction that later rolls back would be undone
    return generated


def test_every_demo_has_an_expected_scan() -> None:
    assert set(EXPECTED_SCAN) == set(indexes.INDEX_DEMOS)


@pytest.mark.parametrize("name", sorted(indexes.INDEX_DEMOS))
def test_seq_scan_before_index_scan_after(no_seqscan: psycopg.Connection, name: str) -> None:
    demo = indexes.INDEX_DEMOS[name]

    cmp = indexes.compare(no_seqscan, demo)

    assert demo.table in plans.seq_scanned(cmp.before)
    assert demo.index not in plans.index_scans(cmp.before)
    assert plans.index_scans(cmp.after).get(demo.index) == EXPECTED_SCAN[name]
    assert demo.table not in plans.seq_scanned(cmp.after)


@pytest.mark.parametrize("name", sorted(indexes.INDEX_DEMOS))
def test_index_changes_speed_not_answers(no_seqscan: psycopg.Connection, name: str) -> None:
    demo = indexes.INDEX_DEMOS[name]
    params = demo.params or None
    indexes.remove_index(no_seqscan, demo)
    without = sorted(no_seqscan.execute(demo.sql, params).fetchall())
    no_seqscan.rollback()
    try:
        indexes.create_index(no_seqscan, demo)
        with_index = sorted(no_seqscan.execute(demo.sql, params).fetchall())
        no_seqscan.rollback()
    finally:
        indexes.restore(no_seqscan, demo)

    assert with_index == without
    assert without, "the demo query should find something in the generated shop"


def test_compare_leaves_no_index_behind(no_seqscan: psycopg.Connection) -> None:
    indexes.compare(no_seqscan, indexes.INDEX_DEMOS["brin"])

    row = no_seqscan.execute("SELECT to_regclass('orders_ordered_at_brin')").fetchone()
    assert row == (None,)


def test_the_gist_demo_puts_the_exclusion_constraint_back(no_seqscan: psycopg.Connection) -> None:
    # Its "without" plan needs the constraint gone; the shop must not stay unprotected.
    indexes.compare(no_seqscan, indexes.INDEX_DEMOS["gist"])

    row = no_seqscan.execute(
        "SELECT contype FROM pg_constraint WHERE conname = 'bookings_no_overlap'"
    ).fetchone()
    assert row == ("x",)  # x: an exclusion constraint


def test_column_order_decides_how_much_of_the_index_is_read(
    no_seqscan: psycopg.Connection,
) -> None:
    # Both orders can answer the query; only equality-first keeps the walk inside one
    # customer's entries. Buffers are pages touched, a count: the same on every run.
    by_index = indexes.column_order(no_seqscan)

    right, swapped = by_index["orders_customer_recent_idx"], by_index["orders_recent_customer_idx"]
    assert plans.index_scans(right) == {"orders_customer_recent_idx": "Index Scan"}
    assert plans.index_scans(swapped) == {"orders_recent_customer_idx": "Index Scan"}
    assert plans.buffers(swapped) > 2 * plans.buffers(right)


def test_planner_ignores_an_index_for_a_common_value(generated: psycopg.Connection) -> None:
    # No enable_seqscan here: the planner weighs both ways. 5,000 orders: ANALYZE reads
    # them all (its sample is 30,000 rows), so the statistics - and the plans - are the
    # same on every run. Whether the rare value's index is read as a bitmap or row by row
    # is a matter of cost settings; that it is read at all is the point.
    by_status = indexes.selectivity(generated)

    rare, common = by_status["cancelled"], by_status["delivered"]
    assert set(plans.index_scans(rare)) == {"orders_status_idx"}
    assert "orders" not in plans.seq_scanned(rare)
    assert plans.index_scans(common) == {}
    assert plans.node_types(common) == ["Seq Scan"]


def test_the_overlap_query_searches_the_gist_index_by_room_and_time(
    no_seqscan: psycopg.Connection,
) -> None:
    # Both conditions inside the index: a room_id left to a filter (e.g. compared as
    # smallint, which the index's class does not handle) would read every stay of the time.
    cmp = indexes.compare(no_seqscan, indexes.INDEX_DEMOS["gist"])

    conditions = " ".join(str(n.get("Index Cond", "")) for n in plans.nodes(cmp.after))
    assert "room_id = 3" in conditions and "during &&" in conditions
