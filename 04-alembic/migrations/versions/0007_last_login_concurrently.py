"""Add members.last_login_at and index it without blocking writers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 03:16:00

The expand step of a zero-downtime change. A nullable column with no default is a
catalog-only change on PostgreSQL: instant, whatever the table size. A plain
CREATE INDEX would block every INSERT/UPDATE/DELETE on members until it finishes;
CREATE INDEX CONCURRENTLY lets them run, but it cannot run inside a transaction,
hence the autocommit block (and transaction_per_migration in env.py, so only this
revision's own work is committed early).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_members_last_login_at"


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    op.add_column("members", sa.Column("last_login_at", sa.DateTime(timezone=True)))
    if _on_postgresql():
        with op.get_context().autocommit_block():
            op.create_index(op.f(INDEX), "members", ["last_login_at"], postgresql_concurrently=True)
    else:
        # SQLite locks the whole file for any write anyway: nothing to gain here.
        op.create_index(op.f(INDEX), "members", ["last_login_at"])


def downgrade() -> None:
    if _on_postgresql():
        with op.get_context().autocommit_block():
            op.drop_index(op.f(INDEX), table_name="members", postgresql_concurrently=True)
    else:
        op.drop_index(op.f(INDEX), table_name="members")
    op.drop_column("members", "last_login_at")
