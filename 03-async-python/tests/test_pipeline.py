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

    assert set(out.results) | set(out.dead_letters) == set(items)
    assert not set(out.results) & set(out.dead_letters)
    assert out.results[7] == 14
    assert out.dead_letters[10] == "ValueError: bad item 10"
    assert len(out.dead_letters) == 20


async def test_backpressure_keeps_the_queue_within_maxsize() -> None:
    out = await run_pipeline(range(200), double_or_fail, workers=2, maxsize=3)

    assert 1 <= out.max_queue_size <= 3


async def test_empty_input_finishes() -> None:
    out = await run_pipeline([], double_or_fail)

    assert out.results == {} and out.dead_letters == {}


async def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        await run_pipeline([1], double_or_fail, workers=0)
