"""JSONB: query inside documents, and change one nested key without rewriting the rest
in application code. Attributes that vary per product live here; anything every row has,
that is joined on or constrained (price, category), is a real column."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

# The statements, named so `main.py tour` can print exactly what runs.
FIND = "SELECT id FROM products WHERE attributes @> %s ORDER BY id"

BRANDS_BY_COLOR = """
SELECT attributes ->> 'brand' AS brand, count(*) AS products
FROM products WHERE attributes ->> 'color' = %s
GROUP BY 1 ORDER BY 2 DESC, 1
"""

LIGHT_WIRELESS = """
SELECT id, jsonb_path_query(
    attributes, '$.specs ? (@.wireless == true && @.weight_g <= $max).weight_g',
    jsonb_build_object('max', %s::int)
)::int AS grams
FROM products ORDER BY id
"""

TAGS = "SELECT jsonb_path_query(attributes, '$.tags[*]') #>> '{}' FROM products WHERE id = %s"

SET_SPEC = """
UPDATE products
SET attributes = jsonb_set(attributes, ARRAY['specs', %s], %s, true)
WHERE id = %s
RETURNING attributes
"""

REMOVE_TAG = """
UPDATE products
SET attributes = jsonb_set(attributes, '{tags}', (attributes -> 'tags') - %s)
WHERE id = %s RETURNING attributes -> 'tags'
"""


def find(conn: psycopg.Connection, contains: dict[str, Any]) -> list[int]:
    """@> is containment: every key/value (and array element) given is present."""
    rows = conn.execute(FIND, (Jsonb(contains),)).fetchall()
    return [int(r[0]) for r in rows]


def brands_by_color(conn: psycopg.Connection, color: str) -> list[tuple[str, int]]:
    """->> extracts a field as text, usable like any column (GROUP BY, ORDER BY)."""
    rows = conn.execute(BRANDS_BY_COLOR, (color,)).fetchall()
    return [(str(b), int(n)) for b, n in rows]


def light_wireless(conn: psycopg.Connection, max_grams: int) -> list[tuple[int, int]]:
    """A SQL/JSON path with a filter: products whose specs say wireless and light enough.
    jsonb_path_query returns one row per match, here the weight itself."""
    rows = conn.execute(LIGHT_WIRELESS, (max_grams,)).fetchall()
    return [(int(i), int(g)) for i, g in rows]


def tags(conn: psycopg.Connection, product_id: int) -> list[str]:
    rows = conn.execute(TAGS, (product_id,)).fetchall()
    return [str(r[0]) for r in rows]


def set_spec(conn: psycopg.Connection, product_id: int, key: str, value: Any) -> dict[str, Any]:
    """jsonb_set rewrites one nested key in the server, in one UPDATE: no read-modify-write
    race between two clients changing different keys of the same document."""
    row = conn.execute(SET_SPEC, (key, Jsonb(value), product_id)).fetchone()
    if row is None:
        raise LookupError(f"no product {product_id}")
    return dict(row[0])


def remove_tag(conn: psycopg.Connection, product_id: int, tag: str) -> list[str]:
    """`- 'text'` on a JSON array removes that element wherever it is."""
    row = conn.execute(REMOVE_TAG, (tag, product_id)).fetchone()
    if row is None:
        raise LookupError(f"no product {product_id}")
    return list(row[0])
