"""Allow only known values in members.status (a CHECK constraint, in batch mode).

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-22 03:12:00

Branch B: written at the same time as 0004, also on top of 0003, so the history
had two heads until 0006 merged them.

SQLite has no ALTER TABLE ... ADD CONSTRAINT. batch_alter_table works around that:
on SQLite it creates a new table with the constraint, copies the rows, drops the
old table and renames the new one; on PostgreSQL it emits a plain ALTER TABLE.
The constraint has a name, so the downgrade can find it again on both engines.
Autogenerate does not compare CHECK constraints: this revision is written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_members_status_allowed"), "status IN ('active', 'paused', 'closed')"
        )


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_constraint(op.f("ck_members_status_allowed"), type_="check")
