"""Models of the audit database: a separate database with its own Alembic history.

Separate metadata on purpose: `alembic check` on the app database must not expect
audit tables there, and the other way round.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from evolve.models import NAMING_CONVENTION


class AuditBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AuditEvent(AuditBase):
    """Who did what to which record; append-only."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject_occurred_at", "subject", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    # e.g. "members:42"; the audit database holds no foreign keys into the app database.
    subject: Mapped[str] = mapped_column(String(200))
