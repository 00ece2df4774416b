"""Run EXPLAIN and read its JSON: which nodes, which indexes, how long, how many buffers.

The JSON format is for programs (the tests assert on it); the summary below is for people.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
from psycopg import sql

Plan = dict[str, Any]
Params = Mapping[str, object] | tuple[object, ...] | None


def explain(
    conn: psycopg.Connection, query: str, params: Params = None, *, analyze: bool = True
) -> Plan:
    """The top of `EXPLAIN (FORMAT JSON)`: {"Plan": {...}, "Execution Time": ...}.

    ANALYZE really runs the query (and BUFFERS counts the 8 kB pages it touched), so the
    numbers are measured, not estimated. Never EXPLAIN ANALYZE a write you want to keep.
    """
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    stmt = sql.SQL("EXPLAIN ({}) ").format(sql.SQL(options)) + sql.SQL(query)
    row = conn.execute(stmt, params).fetchone()
    if row is None:
        raise RuntimeError("EXPLAIN returned nothing")
    return dict(row[0][0])


def nodes(plan: Plan) -> Iterator[Plan]:
    """Every node of the tree, parents before children."""
    stack = [plan.get("Plan", plan)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.get("Plans", [])))


def node_types(plan: Plan) -> list[str]:
    return [n["Node Type"] for n in nodes(plan)]


def index_scans(plan: Plan) -> dict[str, str]:
    """{index name: node type} for every node that reads an index."""
    return {n["Index Name"]: n["Node Type"] for n in nodes(plan) if "Index Name" in n}


def seq_scanned(plan: Plan) -> set[str]:
    """Tables read from start to end."""
    return {n["Relation Name"] for n in nodes(plan) if n["Node Type"] == "Seq Scan"}


def buffers(plan: Plan) -> int:
    """8 kB pages touched by the whole query (hit in cache + read from disk)."""
    top = plan["Plan"]
    return int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))


def execution_ms(plan: Plan) -> float:
    return float(plan.get("Execution Time", 0.0))


def describe(node: Plan) -> str:
    """One line per node, in the words of PostgreSQL's text format."""
    text = node["Node Type"]
    if "Index Name" in node:
        text += f" using {node['Index Name']}"
    if "Relation Name" in node:
        text += f" on {node['Relation Name']}"
    if "Sort Method" in node:
        text += f" ({node['Sort Method']}, {node.get('Sort Space Used', '?')} kB)"
    estimated = node.get("Plan Rows")
    actual = node.get("Actual Rows")
    text += f"  est={estimated}" + (f" actual={actual}" if actual is not None else "")
    if "Rows Removed by Filter" in node:
        text += f" removed={node['Rows Removed by Filter']}"
    return text


def summary(plan: Plan) -> list[str]:
    """The tree as indented lines, then the totals a reader compares first."""
    lines: list[str] = []

    def walk(node: Plan, depth: int) -> None:
        lines.append("  " * depth + ("-> " if depth else "") + describe(node))
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    if "Execution Time" in plan:
        lines.append(f"execution {execution_ms(plan):.2f} ms, {buffers(plan)} buffers")
    return lines
