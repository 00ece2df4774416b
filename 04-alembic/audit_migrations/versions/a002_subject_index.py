"""Index audit_events by subject and time: "what happened to members:42, newest first".

Revision ID: a002
Revises: a001
Create Date: 2026-11-22 03:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "a002"
down_revision: str | Sequence[str] | None = "a001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_events_subject_occurred_at", "audit_events", ["subject", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_subject_occurred_at", table_name="audit_events")
