"""The shop's schema in SQLAlchemy 2.0 declarative style.

Customers place orders; an order holds lines; a line points at a product and carries its own
data (quantity, the price paid), which is why it is an association *object* and not a bare
many-to-many table. Categories nest (a self-referential, optional parent).

Tables carry a `shop_` prefix because the compose PostgreSQL database is shared by every lesson.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    func,
    text,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Without a naming convention the database invents constraint names ("shop_orders_check1",
# "sqlite_autoindex_..."), and a later migration cannot name what it wants to drop.
NAMING_CONVENTION = {
    # table + every column, so a composite index gets a name of its own:
    # ix_shop_products_price_cents_id.
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ORDER_STATUSES = ("open", "paid", "shipped", "cancelled")


class Base(AsyncAttrs, DeclarativeBase):
    """Shared base. AsyncAttrs adds `obj.awaitable_attrs.<relation>` for explicit async loads."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Category(Base):
    __tablename__ = "shop_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # Deleting a parent category keeps its children: they become top-level (SET NULL).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_categories.id", ondelete="SET NULL")
    )

    # remote_side tells SQLAlchemy which end of the self-join is the "one" side.
    parent: Mapped[Category | None] = relationship(back_populates="children", remote_side=[id])
    children: Mapped[list[Category]] = relationship(back_populates="parent")
    products: Mapped[list[Product]] = relationship(back_populates="category")

    def __repr__(self) -> str:
        return f"Category({self.name!r})"


class Product(Base):
    __tablename__ = "shop_products"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        # The sort key of the price listing, id included: keyset pagination
        # (queries.products_page_keyset) seeks to (price_cents, id) > cursor and reads the
        # next rows in index order. An index on price_cents alone cannot seek past a tie on
        # price, and PostgreSQL would have to sort. It also serves plain price lookups
        # (the leftmost column), so no separate price_cents index is needed.
        Index(None, "price_cents", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Money as integer cents: floats cannot represent 0.10 exactly.
    price_cents: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Optional relation: a product may be uncategorised.
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_categories.id", ondelete="SET NULL")
    )

    category: Mapped[Category | None] = relationship(back_populates="products")

    def __repr__(self) -> str:
        return f"Product({self.sku!r}, {self.price_cents}c)"


class Customer(Base):
    __tablename__ = "shop_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # server_default: the database fills it, so rows inserted by any client get a value.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # passive_deletes: trust ON DELETE CASCADE instead of loading every order to delete it.
    orders: Mapped[list[Order]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Customer({self.email!r})"


class Order(Base):
    __tablename__ = "shop_orders"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in ORDER_STATUSES) + ")", name="known_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("shop_customers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), server_default=text("'open'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    customer: Mapped[Customer] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)

    def __repr__(self) -> str:
        return f"Order(id={self.id}, status={self.status!r})"


class OrderLine(Base):
    """The association object between orders and products, with data of its own."""

    __tablename__ = "shop_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents >= 0", name="unit_price_not_negative"),
    )

    # Lines die with their order (CASCADE), but a product that was sold cannot be deleted
    # (RESTRICT): the order history must keep pointing at something real.
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_orders.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("shop_products.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    quantity: Mapped[int]
    # The price at the time of sale, copied from the product: later price changes
    # must not rewrite what a customer paid.
    unit_price_cents: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
