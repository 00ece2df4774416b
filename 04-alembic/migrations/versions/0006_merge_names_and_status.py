"""Merge the two heads 0004 (names) and 0005 (status check).

Revision ID: 0006
Revises: 0004, 0005
Create Date: 2026-11-22 03:14:00

Made with `alembic merge heads -m "merge names and status" --rev-id 0006`.
A merge revision usually changes nothing itself: it only tells Alembic that both
branches must be applied before anything that comes after it, so `alembic heads`
shows one head again and `alembic upgrade head` is unambiguous.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: both parents already did the work."""


def downgrade() -> None:
    """Nothing to undo: stepping below the merge re-opens the two branches."""
