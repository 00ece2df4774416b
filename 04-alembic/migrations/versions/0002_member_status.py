"""Add members.status with a server default, and an index on it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:05:00

A NOT NULL column on a table that already has rows needs a value for those rows.
server_default puts the DEFAULT in the database, so existing rows get 'active' and
so does every INSERT from code that does not know the column yet (an old app
version still running during a deploy). PostgreSQL 11+ stores a constant default
in the catalog: no table rewrite, the ALTER is instant even on a big table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "members",
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
    )
    op.create_index(op.f("ix_members_status"), "members", ["status"])


def downgrade() -> None:
    # Reverse order of upgrade: the index depends on the column.
    op.drop_index(op.f("ix_members_status"), table_name="members")
    op.drop_column("members", "status")
