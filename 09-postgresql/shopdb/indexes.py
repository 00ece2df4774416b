"""Index demos: the same query explained without and with one index.

Each demo drops its index first and (unless asked to keep it) after, so demos never
influence each other and the seeded shop stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from .bookings import OVERLAPPING
from .plans import Plan, explain
from .schema import SCHEMA


@dataclass(frozen=True)
class IndexDemo:
    name: str
    title: str
    why: str
    table: str
    sql: str
    index: str  # the index name, as EXPLAIN reports it
    ddl: str
    params: Mapping[str, object] = field(default_factory=dict)
    # Set for an index that comes with a constraint: the statement that removes it (DROP
    # INDEX cannot), and the schema's own, so a demo puts it back instead of dropping it.
    drop: str = ""


INDEX_DEMOS: dict[str, IndexDemo] = {
    d.name: d
    for d in (
        IndexDemo(
            "composite",
            "B-tree on (customer_id, ordered_at DESC): equality first, then the sort order",
            "The index hands rows over already filtered and sorted, so LIMIT stops after 5. "
            "Column order matters: `python main.py explain column_order` shows why.",
            "orders",
            "SELECT id, ordered_at, total_cents FROM orders "
            "WHERE customer_id = 42 ORDER BY ordered_at DESC LIMIT 5",
            "orders_customer_recent_idx",
            "CREATE INDEX orders_customer_recent_idx ON orders (customer_id, ordered_at DESC)",
        ),
        IndexDemo(
            "partial",
            "Partial B-tree: only the 5% of orders still pending",
            "A WHERE clause on the index keeps it small; queries repeating it can use it.",
            "orders",
            "SELECT id, customer_id, ordered_at FROM orders "
            "WHERE status = 'pending' ORDER BY ordered_at LIMIT 10",
            "orders_pending_idx",
            "CREATE INDEX orders_pending_idx ON orders (ordered_at) WHERE status = 'pending'",
        ),
        IndexDemo(
            "covering",
            "Covering B-tree with INCLUDE: an index-only scan",
            "total_cents rides along in the index leaves, so the table is not visited "
            "(for pages the visibility map marks all-visible - VACUUM keeps it so).",
            "orders",
            "SELECT customer_id, count(*) AS orders, sum(total_cents) AS total_cents "
            "FROM orders WHERE customer_id BETWEEN 100 AND 120 "
            "GROUP BY customer_id ORDER BY customer_id",
            "orders_customer_total_idx",
            "CREATE INDEX orders_customer_total_idx ON orders (customer_id) INCLUDE (total_cents)",
        ),
        IndexDemo(
            "expression",
            "Expression index on lower(email): case-insensitive lookup",
            "An index on email cannot answer lower(email) = ...; an index on the expression can.",
            "customers",
            "SELECT id, email FROM customers WHERE lower(email) = lower(%(email)s)",
            "customers_email_lower_idx",
            "CREATE INDEX customers_email_lower_idx ON customers (lower(email))",
            {"email": "ALAN.TURING3@EXAMPLE.TEST"},
        ),
        IndexDemo(
            "jsonb",
            "GIN with jsonb_path_ops: JSONB containment (@>)",
            "jsonb_path_ops indexes hashes of paths to values: smaller and faster than the "
            "default jsonb_ops, but only for @> (and jsonpath @? / @@).",
            "products",
            "SELECT id, name FROM products "
            """WHERE attributes @> '{"brand": "Acme", "color": "red", "tags": ["eco"]}'""",
            "products_attributes_idx",
            "CREATE INDEX products_attributes_idx ON products "
            "USING gin (attributes jsonb_path_ops)",
        ),
        IndexDemo(
            "fulltext",
            "GIN on a tsvector: full-text search ranked by ts_rank",
            "The GIN index finds the matching documents; ranking then sorts only those.",
            "reviews",
            "SELECT id, rating, round(ts_rank(search, q)::numeric, 3) AS rank, body "
            "FROM reviews, websearch_to_tsquery('english', 'crisp battery') AS q "
            "WHERE search @@ q ORDER BY rank DESC, id LIMIT 5",
            "reviews_search_idx",
            "CREATE INDEX reviews_search_idx ON reviews USING gin (search)",
        ),
        IndexDemo(
            "trigram",
            "GIN with pg_trgm: ILIKE '%...%' without reading every row",
            "A B-tree only helps a prefix (LIKE 'x%'); trigrams index every 3-letter piece.",
            "customers",
            "SELECT id, email FROM customers WHERE email ILIKE '%hopper12%'",
            "customers_email_trgm_idx",
            "CREATE INDEX customers_email_trgm_idx ON customers USING gin (email gin_trgm_ops)",
        ),
        IndexDemo(
            "gist",
            "GiST behind the exclusion constraint: the index that forbids overlaps also finds them",
            "To refuse an overlapping booking PostgreSQL must find overlaps fast, so the "
            "constraint builds a GiST index on (room_id, during); queries with = and && use it. "
            "(The demo drops the constraint for the 'without' plan and restores it.)",
            "bookings",
            OVERLAPPING,
            "bookings_no_overlap",
            "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap "
            "EXCLUDE USING gist (room_id WITH =, during WITH &&)",
            {
                "room": 3,
                "start": datetime(2024, 2, 1, tzinfo=UTC),
                "end": datetime(2024, 2, 8, tzinfo=UTC),
            },
            drop="ALTER TABLE bookings DROP CONSTRAINT IF EXISTS bookings_no_overlap",
        ),
        IndexDemo(
            "brin",
            "BRIN on ordered_at: a tiny index for time-ordered rows",
            "BRIN stores min/max per block range. Orders arrive in time order, so one day "
            "lives in a few ranges; the index is a few kB where a B-tree is megabytes.",
            "orders",
            "SELECT count(*), sum(total_cents) FROM orders "
            "WHERE ordered_at >= '2025-03-01 00:00+00' AND ordered_at < '2025-03-02 00:00+00'",
            "orders_ordered_at_brin",
            "CREATE INDEX orders_ordered_at_brin ON orders USING brin (ordered_at)",
        ),
    )
}

# The composite demo's two columns the other way round. PostgreSQL can still use this index
# (in time order, checking customer_id on every entry), but no key narrows the walk to one
# customer: it reads entries of every customer until it has found five of this one.
SWAPPED = IndexDemo(
    "column_order",
    "Column order: (ordered_at DESC, customer_id) against (customer_id, ordered_at DESC)",
    "Equality columns first: then the index walk starts and stays inside one customer's "
    "entries. The other way round it reads everybody's recent orders to find this one's.",
    "orders",
    INDEX_DEMOS["composite"].sql,
    "orders_recent_customer_idx",
    "CREATE INDEX orders_recent_customer_idx ON orders (ordered_at DESC, customer_id)",
)

# Not every index gets used: the planner weighs how many rows match (selectivity).
SELECTIVITY_DDL = "CREATE INDEX orders_status_idx ON orders (status)"
SELECTIVITY_SQL = "SELECT id, total_cents FROM orders WHERE status = %(status)s"


# What `main.py explain` accepts: every demo above, then the two that compare plans.
EXPLAIN_NAMES = [*INDEX_DEMOS, SWAPPED.name, "selectivity"]


@dataclass(frozen=True)
class Comparison:
    demo: IndexDemo
    before: Plan
    after: Plan
    index_kb: int


def drop_index(conn: psycopg.Connection, name: str) -> None:
    # Qualified: never drop another lesson's index of the same name further up the path.
    conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(SCHEMA, name)))
    conn.commit()


def remove_index(conn: psycopg.Connection, demo: IndexDemo) -> None:
    """Drop the demo's index (with its constraint, for one that comes with a constraint)."""
    if demo.drop:
        conn.execute(demo.drop)  # constant DDL from this module
        conn.commit()
    else:
        drop_index(conn, demo.index)


def index_exists(conn: psycopg.Connection, demo: IndexDemo) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.{demo.index}",)).fetchone()
    conn.rollback()
    return bool(row and row[0])


def restore(conn: psycopg.Connection, demo: IndexDemo) -> None:
    """Leave the shop as seeded: demo indexes gone, the schema's own (a constraint's) there."""
    if not demo.drop:
        drop_index(conn, demo.index)
    elif not index_exists(conn, demo):
        create_index(conn, demo)


def create_index(conn: psycopg.Connection, demo: IndexDemo) -> None:
    conn.execute(demo.ddl)  # constant DDL from this module
    # Fresh statistics: an expression index gets its own, and the planner needs them.
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(demo.table)))
    conn.commit()


def compare(conn: psycopg.Connection, demo: IndexDemo, *, keep: bool = False) -> Comparison:
    """EXPLAIN ANALYZE the demo's query without its index, build it, and explain again."""
    params = demo.params or None  # None: no placeholders, so '%' in LIKE stays literal
    try:
        remove_index(conn, demo)
        before = explain(conn, demo.sql, params)
        conn.rollback()
        create_index(conn, demo)
        after = explain(conn, demo.sql, params)
        size = conn.execute("SELECT pg_relation_size(%s::regclass)", (demo.index,)).fetchone()
        conn.rollback()
    finally:
        conn.rollback()  # after an error, the connection must leave the failed transaction
        if not keep:
            restore(conn, demo)
    return Comparison(demo, before, after, int(size[0]) // 1024 if size else 0)


def column_order(conn: psycopg.Connection) -> dict[str, Plan]:
    """{index: plan} of the composite demo's query with its index, then with SWAPPED."""
    return {d.index: compare(conn, d).after for d in (INDEX_DEMOS["composite"], SWAPPED)}


def selectivity(conn: psycopg.Connection) -> dict[str, Plan]:
    """One index on status; a rare value uses it, a common value reads the whole table."""
    drop_index(conn, "orders_status_idx")
    try:
        conn.execute(SELECTIVITY_DDL)
        conn.execute("ANALYZE orders")
        conn.commit()
        plans = {
            s: explain(conn, SELECTIVITY_SQL, {"status": s}) for s in ("cancelled", "delivered")
        }
        conn.rollback()
        return plans
    finally:
        drop_index(conn, "orders_status_idx")
