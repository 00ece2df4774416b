"""Cancellation and timeouts reach the cleanup code; shield protects what must finish."""

from __future__ import annotations

import asyncio

import pytest

from asyncio_patterns.lifecycle import Pool, paginate, query, shielded_commit, with_timeout


async def test_cancellation_propagates_and_runs_cleanup() -> None:
    pool = Pool()
    task = asyncio.create_task(query(pool, "q1", released=asyncio.Event()))
    for _ in range(100):  # a few loop turns until the query holds an open connection
        if pool.log:
            break
        await asyncio.sleep(0)
    assert pool.log == ["open q1"]

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.in_use == 0
    assert pool.log == ["open q1", "release q1"]


async def test_cancel_while_the_connection_is_still_opening_does_not_leak_it() -> None:
    pool = Pool()
    task = asyncio.create_task(query(pool, "early"))
    await asyncio.sleep(0)  # the task has taken its slot and waits inside "open"
    assert pool.in_use == 1 and pool.log == []

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.in_use == 0 and pool.log == ["release early"]


async def test_asyncio_timeout_cancels_the_block_and_releases_the_connection() -> None:
    pool = Pool()

    assert await with_timeout(pool, 0.01) == "timed out"
    assert pool.in_use == 0 and pool.log == ["open slow", "release slow"]


async def test_wait_for_raises_timeout_error_after_cleanup() -> None:
    pool = Pool()

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(query(pool, "w", released=asyncio.Event()), timeout=0.01)
    assert pool.in_use == 0


async def test_a_query_that_finishes_returns_its_result() -> None:
    pool = Pool()
    released = asyncio.Event()
    released.set()

    assert await query(pool, "fast", released) == "conn-fast: ok"


async def test_pool_refuses_a_connection_over_its_size() -> None:
    pool = Pool(size=1)
    async with pool.connection("a"):
        with pytest.raises(RuntimeError, match="exhausted"):
            async with pool.connection("b"):
                pass


async def test_shield_lets_the_commit_finish_although_the_caller_is_cancelled() -> None:
    journal: list[str] = []
    gate = asyncio.Event()
    caller = asyncio.create_task(shielded_commit(journal, gate))
    await asyncio.sleep(0)

    caller.cancel()
    await asyncio.sleep(0)
    gate.set()

    with pytest.raises(asyncio.CancelledError):
        await caller
    assert journal == ["caller cancelled, commit continues", "committed"]


async def test_a_second_cancel_does_not_reach_the_shielded_commit() -> None:
    # A request is cancelled (the client went away), then cancelled again (the server shuts
    # down) while its commit is still waiting: the commit must still finish.
    journal: list[str] = []
    gate = asyncio.Event()
    caller = asyncio.create_task(shielded_commit(journal, gate))
    await asyncio.sleep(0)

    caller.cancel()
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.sleep(0)
    assert not caller.done()  # still waiting for the commit, not gone with it
    gate.set()

    with pytest.raises(asyncio.CancelledError):
        await caller
    assert journal == ["caller cancelled, commit continues", "committed"]


async def test_async_generator_fetches_pages_only_on_demand() -> None:
    pages = {0: [1, 2, 3], 1: [4, 5, 6], 2: [7]}
    fetched: list[int] = []

    def fetch_page(page: int) -> list[int]:
        fetched.append(page)
        return pages.get(page, [])

    first_four = []
    async for item in paginate(fetch_page, page_size=3):
        first_four.append(item)
        if len(first_four) == 4:
            break

    assert first_four == [1, 2, 3, 4]
    assert fetched == [0, 1]  # page 2 was never asked for
    assert [i async for i in paginate(fetch_page, page_size=3)] == [1, 2, 3, 4, 5, 6, 7]
