"""Initial schema: members, one row per person.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:00:00

Written by hand. Every constraint gets an explicit name that follows the naming
convention in evolve/models.py: a later revision (or a downgrade) can only drop a
constraint it can name, and the database's own generated names differ per engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("email", name=op.f("uq_members_email")),
    )


def downgrade() -> None:
    op.drop_table("members")
