"""Loading strategies: the same question answered with 1+N queries, 2 queries or 1 query.

The question: "how many orders does each customer have?", answered through the ORM relation
`Customer.orders` so the loading strategy is the only thing that changes.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, raiseload, selectinload
from sqlalchemy.sql import Select

from shop.models import Customer

Strategy = Literal["lazy", "selectinload", "joinedload", "raiseload"]
STRATEGIES: tuple[Strategy, ...] = ("lazy", "selectinload", "joinedload", "raiseload")


def customers_query(strategy: Strategy) -> Select[Customer]:
    stmt = select(Customer).order_by(Customer.id)
    if strategy == "selectinload":
        # One extra SELECT ... WHERE customer_id IN (...) for all customers (in batches of 500).
        return stmt.options(selectinload(Customer.orders))
    if strategy == "joinedload":
        # One SELECT with a LEFT OUTER JOIN; parent columns repeat once per child row.
        return stmt.options(joinedload(Customer.orders))
    if strategy == "raiseload":
        # Touching customer.orders raises instead of quietly querying: the guard for API code.
        return stmt.options(raiseload(Customer.orders))
    # Default relationship() loading is lazy="select": one SELECT per customer, on first access.
    return stmt


def order_counts(session: Session, strategy: Strategy) -> dict[str, int]:
    """{email: number of orders}. With 'lazy' this is the N+1 problem."""
    result = session.scalars(customers_query(strategy))
    if strategy == "joinedload":
        # A joined collection returns each parent once per child; unique() folds them.
        result = result.unique()
    return {customer.email: len(customer.orders) for customer in result}
