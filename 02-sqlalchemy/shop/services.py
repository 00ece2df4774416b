"""Domain logic. It knows a ShopRepository, never a Session, so a fake can stand in."""

from __future__ import annotations

from collections.abc import Mapping

from shop.errors import EmptyOrder, OutOfStock, UnknownCustomer, UnknownProducts
from shop.models import Customer, Order, OrderLine
from shop.repository import ShopRepository


def register_customer(repo: ShopRepository, email: str, name: str) -> Customer:
    """Add a customer; EmailTaken if the address is in use."""
    customer = Customer(email=email.strip().lower(), name=name.strip())
    repo.add_customer(customer)
    return customer


def place_order(repo: ShopRepository, email: str, quantities: Mapping[str, int]) -> Order:
    """Turn {sku: quantity} into an order, taking the items out of stock.

    Every check runs before anything changes, so a rejected order leaves stock untouched.
    """
    wanted = {sku: qty for sku, qty in quantities.items() if qty > 0}
    if not wanted or len(wanted) != len(quantities):
        raise EmptyOrder()
    customer = repo.customer_by_email(email.strip().lower())
    if customer is None:
        raise UnknownCustomer(email)
    products = repo.products_by_sku(wanted)
    missing = [sku for sku in wanted if sku not in products]
    if missing:
        raise UnknownProducts(missing)
    for sku, qty in wanted.items():
        if products[sku].stock < qty:
            raise OutOfStock(sku, qty, products[sku].stock)

    order = Order(customer=customer, status="open")
    for sku, qty in sorted(wanted.items()):
        product = products[sku]
        product.stock -= qty
        order.lines.append(
            OrderLine(product=product, quantity=qty, unit_price_cents=product.price_cents)
        )
    repo.add_order(order)
    return order
