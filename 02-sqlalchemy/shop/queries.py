"""Reporting queries with select(): joins, aggregates, subqueries, CTEs, EXISTS, pagination.

Each function returns the Result shape that fits its caller:
* `session.scalars(...)` - ORM objects, one per row (the first column);
* `session.execute(...)` - Row tuples, unpacked like `for email, cents in rows`;
* `session.execute(...).mappings()` - dict-like rows, for code that serialises by column name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Row, RowMapping, Select, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from shop.models import Category, Customer, Order, OrderLine, Product

# quantity x price paid: the revenue of one line, reused by several queries.
LINE_TOTAL = OrderLine.quantity * OrderLine.unit_price_cents


def revenue_by_customer(session: Session, min_cents: int = 0) -> Sequence[Row[str, int]]:
    """(email, revenue) for customers whose non-cancelled orders reach `min_cents`.

    WHERE filters rows before grouping; HAVING filters the groups after.
    """
    revenue = func.sum(LINE_TOTAL).label("revenue_cents")
    stmt = (
        select(Customer.email, revenue)
        .join(Customer.orders)
        .join(Order.lines)
        .where(Order.status != "cancelled")
        .group_by(Customer.id, Customer.email)
        .having(revenue >= min_cents)
        .order_by(revenue.desc(), Customer.email)
    )
    return session.execute(stmt).all()


def customers_without_orders(session: Session) -> Sequence[Customer]:
    """Correlated NOT EXISTS: the database stops at the first order it finds per customer."""
    has_orders = select(Order.id).where(Order.customer_id == Customer.id).exists()
    return session.scalars(select(Customer).where(~has_orders).order_by(Customer.email)).all()


def products_above_average_price(session: Session) -> Sequence[Product]:
    """A scalar subquery computed once and compared with every row."""
    average = select(func.avg(Product.price_cents)).scalar_subquery()
    stmt = select(Product).where(Product.price_cents > average).order_by(Product.price_cents)
    return session.scalars(stmt).all()


def order_totals(session: Session) -> Sequence[RowMapping]:
    """Per-order totals from a grouped subquery, joined back to orders and customers."""
    totals = (
        select(
            OrderLine.order_id,
            func.sum(LINE_TOTAL).label("total_cents"),
            func.count().label("line_count"),
        )
        .group_by(OrderLine.order_id)
        .subquery("totals")
    )
    stmt = (
        select(
            Order.id.label("order_id"), Customer.email, totals.c.total_cents, totals.c.line_count
        )
        .join(Order.customer)
        .join(totals, totals.c.order_id == Order.id)
        .order_by(Order.id)
    )
    return session.execute(stmt).mappings().all()


def category_subtree(session: Session, root: str) -> Sequence[Row[str, int]]:
    """(name, depth) of a category and everything below it: a recursive CTE.

    Without the CTE this is one query per level, and the code must know the depth.
    """
    tree = (
        select(Category.id, Category.name, literal(0, Integer).label("depth"))
        .where(Category.name == root)
        .cte("tree", recursive=True)
    )
    child = aliased(Category)
    tree = tree.union_all(
        select(child.id, child.name, tree.c.depth + 1).where(child.parent_id == tree.c.id)
    )
    return session.execute(
        select(tree.c.name, tree.c.depth).order_by(tree.c.depth, tree.c.name)
    ).all()


def _by_price() -> tuple:
    # A total order: price alone has ties, and ties make pages unstable.
    return (Product.price_cents, Product.id)


def offset_page_statement(page: int, size: int) -> Select[tuple[Product]]:
    """Page `page` (0-based) with OFFSET: the database still reads and discards page*size rows,
    and a row inserted before the offset shifts every later page by one."""
    return select(Product).order_by(*_by_price()).offset(page * size).limit(size)


def products_page_offset(session: Session, page: int, size: int) -> Sequence[Product]:
    return session.scalars(offset_page_statement(page, size)).all()


def keyset_page_statement(after: tuple[int, int] | None, size: int) -> Select[tuple[Product]]:
    """The page after the (price_cents, id) of the last row seen. With the index on
    (price_cents, id) this is an index seek to the cursor followed by `size` rows in index
    order, so its cost does not grow with the page number; it is also stable under inserts."""
    stmt = select(Product).order_by(*_by_price()).limit(size)
    if after is not None:
        stmt = stmt.where(tuple_(*_by_price()) > tuple_(*after))
    return stmt


def products_page_keyset(
    session: Session, after: tuple[int, int] | None, size: int
) -> Sequence[Product]:
    return session.scalars(keyset_page_statement(after, size)).all()


def keyset_cursor(page: Sequence[Product]) -> tuple[int, int] | None:
    """The cursor a client sends back to get the next page (None when there is none)."""
    return (page[-1].price_cents, page[-1].id) if page else None


def explain(session: Session, stmt: Select[Any]) -> list[str]:
    """The plan the database chooses for `stmt`, one line per entry.

    SQLite answers EXPLAIN QUERY PLAN with one row per step (the text is in the last column);
    PostgreSQL answers EXPLAIN with one text line per row. The parameters are rendered inline
    (integers only here) so the planner sees the same values the real query would carry.
    """
    connection = session.connection()
    sql = str(stmt.compile(connection, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "sqlite":
        return [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    return [row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql)]
