"""The warehouse tables: the target, the quarantine, the run record and the watermarks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Engine,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from etl.settings import Settings


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out (SQLite keeps no zone and returns naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Order(Base):
    """The target: one row per order, whichever source it came from."""

    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    customer_email: Mapped[str] = mapped_column(String(254))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    amount_eur: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Quarantine(Base):
    """Every rejected record, with where it came from and why: nothing is dropped silently."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("source", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(10))
    position: Mapped[str] = mapped_column(String(200))  # file:line, page:index, table:id
    raw: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class Run(Base):
    __tablename__ = "etl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(12))  # full | incremental
    sources: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))  # running | ok | failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counts: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class Watermark(Base):
    """How far each source has been loaded: (updated_at, id) of the last committed row."""

    __tablename__ = "watermarks"

    source: Mapped[str] = mapped_column(String(10), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_id: Mapped[str] = mapped_column(String(40))


def make_engine(url: str) -> Engine:
    engine = create_engine(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            # WAL + synchronous=NORMAL: a commit no longer waits for the disk twice. A killed
            # process loses nothing committed; only a power cut may lose the last commits.
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def warehouse(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    return engine
