"""`python main.py --async`: the same shop on AsyncEngine / AsyncSession."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from demo.narrate import Narrator
from demo.seed import seed_catalog
from shop.async_repository import (
    AsyncShopRepository,
    create_schema,
    is_missing_greenlet,
    make_async_session_factory,
)
from shop.errors import EmailTaken
from shop.models import Customer, Order
from shop.repository import SqlAlchemyShopRepository
from shop.services import place_order, register_customer


async def run_async_tour(engine: AsyncEngine, n: Narrator) -> None:
    sync_engine = engine.sync_engine  # events and statement counting live here
    factory = make_async_session_factory(engine)

    n.step(f"Async engine on {engine.dialect.name}+{engine.dialect.driver}: create the schema")
    with n.sql(sync_engine, "DDL through conn.run_sync"):
        await create_schema(engine, drop_first=True)

    n.step("Sync code inside an async session: run_sync(seed_catalog)")
    async with factory.begin() as session:
        with n.sql(sync_engine):
            await session.run_sync(seed_catalog)

    n.step("The async repository: same methods, awaited")
    async with factory() as session:
        repo = AsyncShopRepository(session)
        for email, name in [("ada@example.test", "Ada"), ("grace@example.test", "Grace")]:
            await repo.add_customer(Customer(email=email, name=name))
        try:
            await repo.add_customer(Customer(email="ada@example.test", name="Ada again"))
        except EmailTaken as exc:
            n.say(f"EmailTaken: {exc}")
        await session.commit()
        n.say(f"found: {await repo.customer_by_email('grace@example.test')}")

    n.step("Reusing the sync domain service: session.run_sync(place_order(...))")
    async with factory.begin() as session:
        for email, items in [
            ("ada@example.test", {"TENT-2P": 1, "MUG": 2}),
            ("ada@example.test", {"LAMP": 1}),
        ]:

            def order_in(sync_session: Session, e: str = email, i: dict[str, int] = items) -> Order:
                return place_order(SqlAlchemyShopRepository(sync_session), e, i)

            order = await session.run_sync(order_in)
            await session.flush()
            n.say(f"order {order.id}: {order.total_cents} cents")

    n.step("Eager loading is the async way: orders_of() with selectinload")
    async with factory() as session:
        with n.sql(sync_engine, "orders + lines/products"):
            orders = await AsyncShopRepository(session).orders_of("ada@example.test")
        for order in orders:
            n.say(f"order {order.id}: {[(li.product.sku, li.quantity) for li in order.lines]}")

    n.step("A lazy load under asyncio raises instead of blocking the event loop")
    async with factory() as session:
        ada = (await session.scalars(select(Customer).where(Customer.id == 1))).one()
        try:
            len(ada.orders)
        except (MissingGreenlet, StatementError) as exc:
            if not is_missing_greenlet(exc):
                raise
            n.say("ada.orders -> MissingGreenlet: no implicit I/O from an attribute access")
        with n.sql(sync_engine, "explicit: await ada.awaitable_attrs.orders"):
            orders = await ada.awaitable_attrs.orders
        n.say(f"ada has {len(orders)} orders")

    n.step("Registering through the service on the async session")
    async with factory.begin() as session:
        customer = await session.run_sync(
            lambda s: register_customer(SqlAlchemyShopRepository(s), "Linus@Example.test", "Linus")
        )
        n.say(f"registered {customer.email}")
