"""gather vs TaskGroup when one job fails."""

from __future__ import annotations

import asyncio

import pytest

from asyncio_patterns.failures import (
    InventoryUnavailable,
    Journal,
    PaymentDeclined,
    with_gather,
    with_task_group,
)


async def test_gather_with_return_exceptions_lets_every_job_finish() -> None:
    journal = Journal()

    results = await with_gather(journal)

    assert results[0] == "reserve" and results[2] == "email"
    assert isinstance(results[1], PaymentDeclined)
    assert sorted(journal.events) == ["charge failed", "email done", "reserve done"]


async def test_plain_gather_raises_but_leaves_the_other_jobs_running() -> None:
    journal = Journal()

    with pytest.raises(PaymentDeclined):
        await asyncio.gather(
            journal.job("slow", steps=20),
            journal.job("charge", steps=1, fail_with=PaymentDeclined()),
        )
    assert journal.events == ["charge failed"]  # "slow" is not cancelled: it is orphaned

    for _ in range(30):
        await asyncio.sleep(0)
    assert journal.events == ["charge failed", "slow done"]


async def test_task_group_cancels_siblings_and_reports_every_error() -> None:
    journal = Journal()

    handled = await with_task_group(journal)

    assert handled == {"payment": ["declined"], "inventory": ["sku-1"]}
    assert "email cancelled" in journal.events
    assert "email done" not in journal.events


async def test_except_star_lets_unhandled_error_kinds_through() -> None:
    journal = Journal()

    with pytest.raises(ExceptionGroup) as caught:
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(journal.job("a", 1, fail_with=InventoryUnavailable("x")))
                group.create_task(journal.job("b", 1, fail_with=KeyError("y")))
        except* InventoryUnavailable:
            pass

    assert [type(e) for e in caught.value.exceptions] == [KeyError]
