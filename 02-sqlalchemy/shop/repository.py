"""The repository: the only place the domain logic meets the Session.

Services (shop/services.py) talk to a `ShopRepository`; production passes the SQLAlchemy one,
unit tests pass an in-memory fake (tests/fakes.py) and run without a database.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, raiseload, selectinload

from shop.errors import EmailTaken
from shop.models import Customer, Order, OrderLine, Product


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
        return self.session.scalars(select(Customer).where(Customer.email == email)).one_or_none()

    def products_by_sku(self, skus: Collection[str]) -> dict[str, Product]:
        # FOR UPDATE locks the rows on PostgreSQL so two orders cannot both take the last
        # item; SQLite locks the whole file on write and SQLAlchemy leaves the clause out.
        stmt = select(Product).where(Product.sku.in_(list(skus))).with_for_update()
        return {p.sku: p for p in self.session.scalars(stmt)}

    def orders_of(self, email: str) -> list[Order]:
        # An API path: load exactly what the response needs in a fixed number of queries,
        # and make any other lazy load raise instead of silently issuing N more queries.
        stmt = (
            select(Order)
            .join(Order.customer)
            .where(Customer.email == email)
            .options(
                selectinload(Order.lines).joinedload(OrderLine.product),
                raiseload("*"),
            )
            .order_by(Order.id)
        )
        return list(self.session.scalars(stmt))
