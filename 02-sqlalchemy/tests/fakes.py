"""An in-memory ShopRepository: the domain logic under test, no database involved."""

from __future__ import annotations

from collections.abc import Collection

from shop.errors import EmailTaken
from shop.models import Customer, Order, Product


class FakeShopRepository:
    def __init__(self, products: list[Product], customers: list[Customer] | None = None) -> None:
        self.products = {p.sku: p for p in products}
        self.customers = {c.email: c for c in customers or []}
        self.orders: list[Order] = []

    def add_customer(self, customer: Customer) -> None:
        if customer.email in self.customers:
            raise EmailTaken(customer.email)
        self.customers[customer.email] = customer

    def add_order(self, order: Order) -> None:
        self.orders.append(order)

    def customer_by_email(self, email: str) -> Customer | None:
        return self.customers.get(email)

    def products_by_sku(self, skus: Collection[str]) -> dict[str, Product]:
        return {sku: self.products[sku] for sku in skus if sku in self.products}

    def orders_of(self, email: str) -> list[Order]:
        return [o for o in self.orders if o.customer.email == email]
