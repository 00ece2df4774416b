"""The repository again, on AsyncSession (asyncpg on PostgreSQL, aiosqlite on SQLite).

The queries are the very same select() objects, built by shop/repository.py's
`*_query` functions; only the calls gain `await`. What changes is
loading: a lazy load would have to do I/O inside a plain attribute access, which cannot be
awaited, so under asyncio SQLAlchemy raises MissingGreenlet instead. Load eagerly in the query
(selectinload) or ask explicitly with `await obj.awaitable_attrs.relation`.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.exc import IntegrityError, MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shop import repository
from shop.errors import EmailTaken
from shop.models import Base, Customer, Order, Product


def is_missing_greenlet(exc: BaseException) -> bool:
    """True for the error an implicit lazy load raises under asyncio.

    Depending on the driver it arrives bare or wrapped in a StatementError (with the SQL
    that could not run attached), so look at both.
    """
    return isinstance(exc, MissingGreenlet) or isinstance(
        getattr(exc, "orig", None), MissingGreenlet
    )


def make_async_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: after commit, reading an attribute would otherwise trigger a
    # refresh, which is implicit I/O, which asyncio cannot do from an attribute access.
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine, *, drop_first: bool = False) -> None:
    """DDL is sync code in SQLAlchemy; run_sync runs it on the async connection."""
    async with engine.begin() as conn:
        if drop_first:
            await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)


class AsyncShopRepository:
    """Same methods as SqlAlchemyShopRepository, awaited, on the same statement builders
    (shop.repository.*_query): one definition per query. Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_customer(self, customer: Customer) -> None:
        try:
            async with self.session.begin_nested():
                self.session.add(customer)
        except IntegrityError as exc:
            raise EmailTaken(customer.email) from exc

    async def add_order(self, order: Order) -> None:
        self.session.add(order)

    async def customer_by_email(self, email: str) -> Customer | None:
        return (await self.session.scalars(repository.customer_by_email_query(email))).one_or_none()

    async def products_by_sku(self, skus: Collection[str]) -> dict[str, Product]:
        stmt = repository.products_by_sku_query(skus)
        return {p.sku: p for p in await self.session.scalars(stmt)}

    async def orders_of(self, email: str) -> list[Order]:
        return list(await self.session.scalars(repository.orders_of_query(email)))
