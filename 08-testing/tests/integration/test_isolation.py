"""Proof that the rollback fixture isolates tests: what one test writes, the next never sees.

Both halves write the same SKU and commit. If anything leaked from one test to the other,
whichever runs second (pytest-randomly picks) would find the row already there and fail.
"""

from __future__ import annotations

import pytest
from dbtools import rollback_session
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders.db import ProductRow, create_engine
from orders.domain import Product
from orders.repository import SqlRepository

PROBE = Product("ISOLATION-PROBE", "written by a test", 1_00, 1)


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


async def test_without_the_outer_transaction_a_commit_is_for_real(database_url: str) -> None:
    # The control experiment: a plain session commits durably. Clean up after ourselves.
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            repo = SqlRepository(session)
            await repo.add_product(Product("DURABLE", "kept", 1_00, 1))
            await repo.commit()
        async with AsyncSession(engine) as session:
            assert "DURABLE" in await skus(SqlRepository(session))
            await session.delete(await session.get(ProductRow, "DURABLE"))
            await session.commit()
    finally:
        await engine.dispose()
