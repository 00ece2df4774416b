"""The repository: the only place the domain logic meets the Session.

Services (shop/services.py) talk to a `ShopRepository`; production passes the SQLAlchemy one,
unit tests pass an in-memory fake (tests/fakes.py) and run without a database.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, raiseload, selectinload

from shop.errors import EmailTaken
from shop.models import Customer, Order, OrderLine, Product

# The statements are built once, here, and executed by both repositories: this Session one
# and the AsyncSession one (shop/async_repository.py). Only the execution differs.


def customer_by_email_query(email: str) -> Select[tuple[Customer]]:
    return select(Customer).where(Customer.email == email)


def products_by_sku_query(skus: Collection[str]) -> Select[tuple[Product]]:
    # FOR UPDATE locks the rows on PostgreSQL so two orders cannot both take the last
    # item; SQLite locks the whole file on write and SQLAlchemy leaves the clause out.
    return select(Product).where(Product.sku.in_(list(skus))).with_for_update()


def orders_of_query(email: str) -> Select[tuple[Order]]:
    # An API path: load exactly what the response needs in a fixed number of queries,
    # and make any other lazy load raise instead of silently issuing N more queries.
    return (
        select(Order)
        .join(Order.customer)
        .where(Customer.email == email)
        .options(
            selectinload(Order.lines).joinedload(OrderLine.product),
            raiseload("*"),
        )
        .order_by(Order.id)
    )


class ShopRepository(Protocol):
    def add_customer(self, customer: Customer) -> None: ...
    def add_order(self, order: Order) -> None: ...
    def customer_by_email(self, email: str) -> Customer | None: ...
    def products_by_sku(self, skus: Collection[str]) -> dict[str, Product]: ...
    def orders_of(self, email: str) -> list[Order]: ...


class SqlAlchemyShopRepository:
    """ShopRepository on a Session. It never commits: the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_customer(self, customer: Customer) -> None:
        # A SAVEPOINT around the INSERT: if the unique constraint fires, only this step is
        # rolled back, the caller's transaction survives and the session stays usable.
        try:
            with self.session.begin_nested():
                self.session.add(customer)
        except IntegrityError as exc:
            raise EmailTaken(customer.email) from exc

    def add_order(self, order: Order) -> None:
        self.session.add(order)

    def customer_by_email(self, email: str) -> Customer | None:
        return self.session.scalars(customer_by_email_query(email)).one_or_none()

    def products_by_sku(self, skus: Collection[str]) -> dict[str, Product]:
        return {p.sku: p for p in self.session.scalars(products_by_sku_query(skus))}

    def orders_of(self, email: str) -> list[Order]:
        return list(self.session.scalars(orders_of_query(email)))
