"""Demo data so that a fresh ``python main.py`` has something to sell."""

from __future__ import annotations

from datetime import datetime, timedelta

from orders.domain import Coupon, Product
from orders.repository import OrderRepository

DEMO_PRODUCTS = (
    Product("BOOK-PY", "Fluent Python (paperback)", 49_90, 25),
    Product("MUG-01", "Coffee mug", 9_50, 200),
    Product("STICKER", "Laptop sticker", 1_20, 1_000),
    Product("KB-MECH", "Mechanical keyboard", 129_00, 3),
)


async def seed_demo_data(repo: OrderRepository, now: datetime) -> bool:
    """Insert the demo catalogue unless the database already has products."""
    if await repo.list_products():
        return False
    for product in DEMO_PRODUCTS:
        await repo.add_product(product)
    await repo.add_coupon(Coupon("WELCOME10", 10, expires_at=now + timedelta(days=365)))
    await repo.add_coupon(Coupon("BIG20", 20, now + timedelta(days=30), min_subtotal_cents=100_00))
    await repo.commit()
    return True
