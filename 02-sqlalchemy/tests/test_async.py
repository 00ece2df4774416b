"""The repository on AsyncSession (aiosqlite / asyncpg) and why lazy loads raise there."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from shop import repository
from shop.async_repository import (
    AsyncShopRepository,
    is_missing_greenlet,
    make_async_session_factory,
)
from shop.db import async_url, count_statements, make_async_engine
from shop.errors import EmailTaken, OutOfStock
from shop.models import Customer, Product
from shop.repository import SqlAlchemyShopRepository
from shop.services import place_order


@pytest.mark.parametrize(
    ("sync", "expected"),
    [
        ("sqlite:///var/shop.db", "sqlite+aiosqlite:///var/shop.db"),
        (
            "postgresql+psycopg://u:p@localhost:5432/db",
            "postgresql+asyncpg://u:p@localhost:5432/db",
        ),
        ("postgresql://u:p@localhost/db", "postgresql+asyncpg://u:p@localhost/db"),
    ],
)
def test_async_url_is_derived_from_the_sync_one(sync: str, expected: str) -> None:
    assert async_url(sync).render_as_string(hide_password=False) == expected


def test_async_url_refuses_backends_without_an_async_driver() -> None:
    with pytest.raises(ValueError, match="mysql"):
        async_url("mysql://u:p@localhost/db")


@pytest.fixture
async def async_engine(database_url: URL, engine: Engine) -> AsyncIterator[AsyncEngine]:
    """An async engine on the same database; `engine` has already created the schema."""
    aengine = make_async_engine(database_url)
    yield aengine
    await aengine.dispose()


@pytest.fixture
def factory(async_engine: AsyncEngine, catalog: dict[str, int]) -> async_sessionmaker[AsyncSession]:
    return make_async_session_factory(async_engine)


async def test_driver_is_the_async_one(async_engine: AsyncEngine) -> None:
    assert async_engine.dialect.driver in {"aiosqlite", "asyncpg"}


async def test_repository_round_trip(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as session:
        repo = AsyncShopRepository(session)
        await repo.add_customer(Customer(email="carol@example.test", name="Carol"))
        with pytest.raises(EmailTaken):
            await repo.add_customer(Customer(email="ada@example.test", name="Duplicate"))
        await session.commit()  # the savepoint kept Carol despite the duplicate
    async with factory() as session:
        repo = AsyncShopRepository(session)
        carol = await repo.customer_by_email("carol@example.test")
        assert carol is not None and carol.name == "Carol"
        products = await repo.products_by_sku(["MUG", "LAMP", "GHOST"])
        assert sorted(products) == ["LAMP", "MUG"]


async def test_sync_service_runs_inside_the_async_session(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory.begin() as session:
        await session.run_sync(
            lambda s: place_order(SqlAlchemyShopRepository(s), "ada@example.test", {"MUG": 2})
        )
    with pytest.raises(OutOfStock):
        async with factory.begin() as session:
            await session.run_sync(
                lambda s: place_order(SqlAlchemyShopRepository(s), "ada@example.test", {"LAMP": 99})
            )
    async with factory() as session:
        [order] = await AsyncShopRepository(session).orders_of("ada@example.test")
        assert [(li.product.sku, li.quantity) for li in order.lines] == [("MUG", 2)]
        stock = await session.scalar(select(Product.stock).where(Product.sku == "LAMP"))
        assert stock == 25


async def test_eager_loading_is_two_statements(
    async_engine: AsyncEngine, factory: async_sessionmaker[AsyncSession]
) -> None:
    async with factory.begin() as session:
        for _ in range(3):
            await session.run_sync(
                lambda s: place_order(SqlAlchemyShopRepository(s), "ada@example.test", {"MAP": 1})
            )
    async with factory() as session:
        with count_statements(async_engine.sync_engine) as log:
            orders = await AsyncShopRepository(session).orders_of("ada@example.test")
        assert [li.product.sku for o in orders for li in o.lines] == ["MAP"] * 3
        assert log.selects == 2


async def test_lazy_load_raises_and_awaitable_attrs_is_the_way_out(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as session:
        ada = (await session.scalars(select(Customer).filter_by(email="ada@example.test"))).one()
        with pytest.raises((MissingGreenlet, StatementError)) as caught:
            _ = ada.orders
        assert is_missing_greenlet(caught.value)
        await session.rollback()
        ada = (await session.scalars(select(Customer).filter_by(email="ada@example.test"))).one()
        assert await ada.awaitable_attrs.orders == []


async def test_both_repositories_run_the_same_statement_builders(
    engine: Engine,
    async_engine: AsyncEngine,
    factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One definition per query: the async repository executes the sync one's select()s."""
    built: list[str] = []
    for name in ("customer_by_email_query", "products_by_sku_query", "orders_of_query"):
        builder = getattr(repository, name)

        def spy(*args: object, _name: str = name, _builder: Any = builder) -> Any:
            built.append(_name)
            return _builder(*args)

        monkeypatch.setattr(repository, name, spy)

    with count_statements(engine) as log, Session(engine) as session:
        repo = SqlAlchemyShopRepository(session)
        repo.customer_by_email("ada@example.test")
        repo.products_by_sku(["MUG"])
        repo.orders_of("ada@example.test")
    sync_sql, sync_built = list(log.statements), list(built)
    built.clear()
    async with factory() as async_session:
        arepo = AsyncShopRepository(async_session)
        with count_statements(async_engine.sync_engine) as log:
            await arepo.customer_by_email("ada@example.test")
            await arepo.products_by_sku(["MUG"])
            await arepo.orders_of("ada@example.test")
    assert built == sync_built
    assert sync_built == ["customer_by_email_query", "products_by_sku_query", "orders_of_query"]
    # The same SQL, up to each driver's placeholder style (psycopg %(x)s, asyncpg $1, sqlite ?).
    assert _placeholders_as_q(log.statements) == _placeholders_as_q(sync_sql)


def _placeholders_as_q(statements: list[str]) -> list[str]:
    return [re.sub(r"%\([^)]+\)s|\$\d+|\?", "?", s) for s in statements]
