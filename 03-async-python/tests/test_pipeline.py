"""The producer/consumer pipeline loses nothing and never lets its queue grow unbounded."""

from __future__ import annotations

import asyncio

import pytest

from asyncio_patterns.pipeline import run_pipeline


async def double_or_fail(n: int) -> int:
    await asyncio.sleep(0)
    if n % 5 == 0:
        raise ValueError(f"bad item {n}")
    return 2 * n


@pytest.mark.parametrize(("workers", "maxsize"), [(1, 1), (3, 2), (8, 16)])
async def test_every_item_is_either_processed_or_dead_lettered(workers: int, maxsize: int) -> None:
    items = list(range(1, 101))

    out = await run_pipeline(items, double_or_fail, workers=workers, maxsize=maxsize)

    done = sorted(item for item, _ in out.results)
    failed = sorted(item for item, _ in out.dead_letters)
    assert sorted(done + failed) == items  # each item exactly once, in one list or the other
    assert failed == [n for n in items if n % 5 == 0]
    assert dict(out.results)[7] == 14
    assert dict(out.dead_letters)[10] == "ValueError: bad item 10"


async def test_repeated_and_unhashable_items_each_get_their_own_outcome() -> None:
    # Two identical orders are two orders: none may be folded into the other.
    orders = [{"sku": "a"}, {"sku": "a"}, {"sku": "b"}, {"sku": "b"}, {"sku": "b"}]

    async def price(order: dict[str, str]) -> int:
        await asyncio.sleep(0)
        if order["sku"] == "b":
            raise LookupError("sku b is not sold")
        return 10

    out = await run_pipeline(orders, price, workers=2, maxsize=2)

    assert out.results == [({"sku": "a"}, 10), ({"sku": "a"}, 10)]
    assert [item for item, _ in out.dead_letters] == [{"sku": "b"}] * 3


async def test_backpressure_makes_the_producer_wait_for_the_workers() -> None:
    # The workers are held until the producer has had every chance to run ahead. Without a
    # bounded queue it would put all 50 items; with maxsize=3 it must stop at the limit.
    release = asyncio.Event()
    started = 0

    async def held(n: int) -> int:
        nonlocal started
        started += 1
        await release.wait()
        return n

    run = asyncio.create_task(run_pipeline(range(50), held, workers=2, maxsize=3))
    for _ in range(100):  # plenty of loop turns for an unbounded producer to put everything
        await asyncio.sleep(0)
    assert started == 2  # one item in each worker...
    assert run.done() is False
    release.set()
    out = await run

    assert out.max_queue_size == 3  # ...and the queue filled to its limit, never past it
    assert sorted(n for n, _ in out.results) == list(range(50))


async def test_empty_input_finishes() -> None:
    out = await run_pipeline([], double_or_fail)

    assert out.results == [] and out.dead_letters == []


async def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        await run_pipeline([1], double_or_fail, workers=0)
