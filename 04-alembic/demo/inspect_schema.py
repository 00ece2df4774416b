"""Describe a live schema through SQLAlchemy's inspector, to show what each revision did."""

from __future__ import annotations

from sqlalchemy import Engine, Inspector, inspect

# Bookkeeping, not part of the app's schema.
IGNORED_TABLES = frozenset({"alembic_version"})

Snapshot = dict[str, frozenset[str]]


def snapshot(engine: Engine) -> Snapshot:
    """Table name -> one line per column, index and constraint, as the database reports them."""
    # One connection for every question: an inspector on an Engine would open one per call.
    with engine.connect() as connection:
        return _describe(inspect(connection))


def _describe(inspector: Inspector) -> Snapshot:
    shape: Snapshot = {}
    for table in inspector.get_table_names():
        if table in IGNORED_TABLES:
            continue
        items = set()
        for column in inspector.get_columns(table):
            null = "" if column["nullable"] else " NOT NULL"
            items.add(f"column {column['name']} {column['type']}{null}")
        for index in inspector.get_indexes(table):
            items.add(f"index {index['name']} ({', '.join(map(str, index['column_names']))})")
        for unique in inspector.get_unique_constraints(table):
            items.add(f"unique {unique['name']} ({', '.join(unique['column_names'])})")
        for check in inspector.get_check_constraints(table):
            items.add(f"check {check['name']}")
        for fk in inspector.get_foreign_keys(table):
            items.add(f"foreign key {fk['name']} -> {fk['referred_table']}")
        shape[table] = frozenset(items)
    return shape


def diff(before: Snapshot, after: Snapshot) -> list[tuple[str, str]]:
    """Changes from one snapshot to the next as ("+" or "-", "table: item") pairs."""
    changes: list[tuple[str, str]] = []
    for table in sorted(before.keys() | after.keys()):
        if table not in after:
            changes.append(("-", f"table {table}"))
            continue
        if table not in before:
            changes.append(("+", f"table {table}"))
        old, new = before.get(table, frozenset()), after[table]
        changes += [("-", f"{table}: {item}") for item in sorted(old - new)]
        changes += [("+", f"{table}: {item}") for item in sorted(new - old)]
    return changes
