"""Deterministic sample data for the tour, the tests and the benchmark."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shop.models import Category, Customer, Order, Product


def seed_catalog(session: Session) -> dict[str, Product]:
    """A small category tree and a dozen products; returns products by sku."""
    root = Category(name="Outdoors")
    camping = Category(name="Camping", parent=root)
    Category(name="Tents", parent=camping)
    cooking = Category(name="Stoves", parent=camping)
    climbing = Category(name="Climbing", parent=root)
    kitchen = Category(name="Kitchen")
    specs = [
        ("TENT-2P", "Two-person tent", 18900, 5, camping),
        ("TENT-4P", "Family tent", 32900, 2, camping),
        ("STOVE-GAS", "Gas stove", 5900, 20, cooking),
        ("STOVE-WOOD", "Wood stove", 7900, 8, cooking),
        ("ROPE-60", "Rope 60 m", 15900, 6, climbing),
        ("HARNESS", "Harness", 6900, 10, climbing),
        ("CHALK", "Chalk bag", 1900, 40, climbing),
        ("MUG", "Enamel mug", 900, 100, kitchen),
        ("KETTLE", "Kettle", 2900, 15, kitchen),
        ("LAMP", "Head lamp", 3500, 25, None),
        ("MAP", "Trail map", 1200, 50, None),
        ("SPORK", "Titanium spork", 900, 80, None),
    ]
    products = {
        sku: Product(sku=sku, name=name, price_cents=price, stock=stock, category=cat)
        for sku, name, price, stock, cat in specs
    }
    session.add_all([root, kitchen, *products.values()])
    session.flush()
    return products


def seed_customers_with_orders(
    session: Session, customers: int, orders_each: int, *, first: int = 0
) -> None:
    """Bulk-insert `customers` customers (numbered from `first`) with `orders_each` orders each.

    Passing a list of dicts to session.execute(insert(Model)) sends batched multi-row
    INSERTs ("insertmanyvalues") without building one object per row.
    """
    rows = [
        {"email": f"c{i:05d}@example.test", "name": f"Customer {i}"}
        for i in range(first, first + customers)
    ]
    ids = session.scalars(
        insert(Customer).returning(Customer.id, sort_by_parameter_order=True), rows
    )
    orders = [{"customer_id": cid, "status": "paid"} for cid in ids for _ in range(orders_each)]
    if orders:
        session.execute(insert(Order), orders)


def seed_products(session: Session, count: int) -> None:
    """Bulk-insert `count` uncategorised products whose prices repeat (about four per price),
    so that ordering by price alone would be ambiguous and the id tie-breaker matters."""
    distinct_prices = max(1, count // 4)
    rows = [
        {
            "sku": f"BULK-{i:07d}",
            "name": f"Product {i}",
            # A prime stride scatters prices across ids: price order is not insertion order.
            "price_cents": 100 + (i * 7919) % distinct_prices,
            "stock": 1,
        }
        for i in range(count)
    ]
    session.execute(insert(Product), rows)
