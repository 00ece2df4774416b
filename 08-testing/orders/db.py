"""Tables and engine. The domain never imports this module; the repository translates."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class ProductRow(Base):
    __tablename__ = "products"
    sku: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)


class CouponRow(Base):
    __tablename__ = "coupons"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    percent_off: Mapped[int] = mapped_column(Integer)
    # timezone=True: PostgreSQL keeps the offset; SQLite stores text, see repository._aware().
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    min_subtotal_cents: Mapped[int] = mapped_column(Integer, default=0)


class OrderRow(Base):
    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), index=True)
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer)
    shipping_cents: Mapped[int] = mapped_column(Integer)
    charge_id: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lines: Mapped[list[OrderLineRow]] = relationship(
        order_by="OrderLineRow.position", cascade="all, delete-orphan", lazy="selectin"
    )


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)


def async_url(database_url: str) -> URL:
    """Map the shared DATABASE_URL onto this lesson's async drivers.

    The same variable serves every lesson (``postgresql+psycopg://...``, ``sqlite:///...``);
    the app runs on asyncio, so it swaps in asyncpg and aiosqlite.
    """
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return url.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return url.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    engine = create_async_engine(async_url(database_url), **kwargs)
    if engine.dialect.name == "sqlite":
        _let_sqlalchemy_drive_sqlite_transactions(engine)
    return engine


def _let_sqlalchemy_drive_sqlite_transactions(engine: AsyncEngine) -> None:
    # sqlite3 (and so aiosqlite) begins transactions lazily on its own, which breaks SAVEPOINT:
    # the rollback-per-test fixture would leak data. The documented fix is to switch the
    # driver's own handling off and emit BEGIN ourselves.
    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _explicit_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so concurrent orders queue on the busy
        # timeout. A plain (deferred) BEGIN reads first and upgrades later; two requests
        # doing that at once make SQLite fail one with "database is locked" at once, a 500.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
