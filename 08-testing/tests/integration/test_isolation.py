"""Proof that the rollback fixture isolates tests: what one test writes, the next never sees.

Both halves write the same SKU and commit. If anything leaked from one test to the other,
whichever runs second (pytest-randomly picks) would find the row already there and fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool

from orders.db import ProductRow, create_engine
from orders.domain import Product
from orders.repository import SqlRepository
from testkit.dbtools import rollback_session

PROBE = Product("ISOLATION-PROBE", "written by a test", 1_00, 1)
DURABLE = Product("DURABLE", "committed for real", 1_00, 1)


async def skus(repo: SqlRepository) -> set[str]:
    return {p.sku for p in await repo.list_products()}


@pytest.mark.parametrize("turn", ["one", "two"])
async def test_a_committed_write_does_not_reach_the_next_test(
    sql_repo: SqlRepository, turn: str
) -> None:
    assert PROBE.sku not in await skus(sql_repo)
    await sql_repo.add_product(PROBE)
    await sql_repo.commit()  # the code under test commits; the fixture still rolls back
    assert PROBE.sku in await skus(sql_repo)


async def test_the_rollback_session_discards_commits_in_one_test(database_url: str) -> None:
    # The same proof without relying on test order: use the fixture's machinery twice.
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        async with rollback_session(engine) as session:
            repo = SqlRepository(session)
            await repo.add_product(PROBE)
            await repo.commit()
            assert PROBE.sku in await skus(repo)
        async with rollback_session(engine) as session:
            assert PROBE.sku not in await skus(SqlRepository(session))
    finally:
        await engine.dispose()


@asynccontextmanager
async def durable(engine: AsyncEngine, product: Product) -> AsyncIterator[None]:
    """Commit ``product`` for real (no rollback fixture), and delete it however the block ends.

    The row lands in the database the whole session shares: left behind by a failed
    assertion, it would turn up in every later test on that database.
    """
    try:
        async with AsyncSession(engine) as session:
            repo = SqlRepository(session)
            await repo.add_product(product)
            await repo.commit()
        yield
    finally:
        async with AsyncSession(engine) as session:
            await session.execute(delete(ProductRow).where(ProductRow.sku == product.sku))
            await session.commit()


async def test_without_the_outer_transaction_a_commit_is_for_real(database_url: str) -> None:
    # The control experiment: a plain session commits durably.
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        async with durable(engine, DURABLE), AsyncSession(engine) as session:
            assert DURABLE.sku in await skus(SqlRepository(session))
    finally:
        await engine.dispose()


async def test_the_durable_row_is_removed_even_when_the_test_fails(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with pytest.raises(AssertionError, match="a check that failed"):
            async with durable(engine, DURABLE):
                raise AssertionError("a check that failed")
        async with AsyncSession(engine) as session:
            assert DURABLE.sku not in await skus(SqlRepository(session))
    finally:
        await engine.dispose()
