"""The app's models: what the schema should look like at the head revision.

Alembic's autogenerate and `alembic check` compare this metadata with a live database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names. Without them PostgreSQL invents names (members_email_key)
# and SQLite keeps none at all, so a migration could not drop or alter a constraint the
# same way on both, and batch mode on SQLite would lose unnamed constraints.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Member(Base):
    __tablename__ = "members"
    # Named "status_allowed"; the convention turns it into ck_members_status_allowed.
    # Autogenerate does not compare CHECK constraints, so revision 0005 adds it by hand.
    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused', 'closed')", name="status_allowed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Split from full_name by revision 0004; NULL last_name means a one-word name.
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[str] = mapped_column(String(20), server_default="active", index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Added by revision 0007 with an index built CONCURRENTLY on PostgreSQL.
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
