"""Data migration: split members.full_name into first_name and last_name.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:10:00

Branch A of two that both start at 0003 (the other is 0005); 0006 merges them.

Lossless both ways: the name is cut at its first space. "Plato" has no space, so
last_name stays NULL (not ''), which is how downgrade knows not to add a space back.
"Ada " becomes ("Ada", "") and joins back to "Ada " exactly.

The backfill walks id ranges of `-x batch_size=N` rows (default 1000), so no single
statement touches the whole table. Note what batching does NOT buy here: the ALTERs
around it lock the table until this revision's transaction commits. For a busy table,
split the change into expand / backfill / contract revisions (see the README).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_BATCH_SIZE = 1000

# A lightweight table: the migration must not import today's models, which will
# have changed by the time someone runs this revision on an old database.
members = sa.table(
    "members",
    sa.column("id", sa.Integer),
    sa.column("full_name", sa.String),
    sa.column("first_name", sa.String),
    sa.column("last_name", sa.String),
)


def _batch_size() -> int:
    # env.py refuses any other value before the first revision runs (evolve/alembic_env.py).
    value = context.get_x_argument(as_dictionary=True).get("batch_size", DEFAULT_BATCH_SIZE)
    return int(value)


def _in_batches(statement: sa.Update) -> None:
    """Run an UPDATE once per id range, or once in all when only writing SQL (--sql)."""
    if context.is_offline_mode():
        op.execute(statement)
        return
    bind = op.get_bind()
    low, high = bind.execute(sa.select(sa.func.min(members.c.id), sa.func.max(members.c.id))).one()
    if low is None:
        return
    size = _batch_size()
    # Ranges of ids, not OFFSET pages: each batch finds its rows through the primary key.
    for start in range(low, high + 1, size):
        bind.execute(statement.where(members.c.id >= start, members.c.id < start + size))


def upgrade() -> None:
    op.add_column("members", sa.Column("first_name", sa.String(length=200), nullable=True))
    op.add_column("members", sa.Column("last_name", sa.String(length=200), nullable=True))

    full = members.c.full_name
    # strpos (PostgreSQL) and instr (SQLite) both give the 1-based position of " ", or 0.
    dialect = op.get_context().dialect.name
    space = sa.func.strpos(full, " ") if dialect == "postgresql" else sa.func.instr(full, " ")
    _in_batches(
        sa.update(members).values(
            first_name=sa.case((space > 0, sa.func.substr(full, 1, space - 1)), else_=full),
            last_name=sa.case((space > 0, sa.func.substr(full, space + 1)), else_=sa.null()),
        )
    )

    # Only now, with every row filled, can first_name become NOT NULL.
    with op.batch_alter_table("members") as batch_op:
        batch_op.alter_column("first_name", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column("full_name")


def downgrade() -> None:
    op.add_column("members", sa.Column("full_name", sa.String(length=200), nullable=True))
    first, last = members.c.first_name, members.c.last_name
    _in_batches(
        sa.update(members).values(
            full_name=sa.case((last.is_(None), first), else_=first + " " + last)
        )
    )
    with op.batch_alter_table("members") as batch_op:
        batch_op.alter_column("full_name", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column("last_name")
        batch_op.drop_column("first_name")
