"""Cache-aside on real Redis: hits and misses, negative caching, invalidation that holds under
a race, write-through vs invalidate-on-write, and probabilistic early refresh."""

from __future__ import annotations

import asyncio
import random

import pytest
import redis.asyncio as aredis

from messaging.cache import ProductCache
from messaging.productdb import Product, ProductDB

pytestmark = pytest.mark.redis


def cache_for(r: aredis.Redis, db: ProductDB, namespace: str, **kw: object) -> ProductCache:
    options: dict[str, object] = {"ttl_s": 60, "negative_ttl_s": 5, "beta": 0.0}
    options.update(kw)
    return ProductCache(r, db, namespace=namespace, **options)  # type: ignore[arg-type]


async def test_second_read_is_a_hit_and_spares_the_database(r, db, namespace) -> None:
    cache = cache_for(r, db, namespace)

    first = await cache.get(3)
    second = await cache.get(3)

    assert first == second == Product(id=3, name="product-3", price_cents=300, version=1)
    assert db.calls == 1
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)
    assert cache.stats.hit_ratio == 0.5


async def test_entries_expire_with_their_ttl(r, db, namespace) -> None:
    cache = cache_for(r, db, namespace, ttl_s=30)
    await cache.get(4)

    keys = [k async for k in r.scan_iter(match=f"{namespace}:product:v1:{{4}}:at:*")]
    ttl_ms = await r.pttl(keys[0])

    assert len(keys) == 1 and 0 < ttl_ms <= 30_000


async def test_a_missing_product_is_cached_as_missing_for_the_shorter_ttl(r, db, namespace) -> None:
    cache = cache_for(r, db, namespace, ttl_s=60, negative_ttl_s=2)

    assert await cache.get(999) is None
    assert await cache.get(999) is None

    assert db.calls == 1  # the second "no such product" came from Redis
    [key] = [k async for k in r.scan_iter(match=f"{namespace}:product:v1:{{999}}:at:*")]
    assert 0 < await r.pttl(key) <= 2_000


@pytest.mark.parametrize("write_through", [True, False])
async def test_an_update_is_seen_by_the_next_read(r, db, namespace, write_through) -> None:
    cache = cache_for(r, db, namespace)
    await cache.get(5)  # cached at version 1, 500 cents

    await cache.set_price(5, 555, write_through=write_through)
    calls_before = db.calls
    product = await cache.get(5)

    assert product is not None and (product.price_cents, product.version) == (555, 2)
    # Write-through stored the new row: the read is a hit. Invalidate made it a miss.
    assert db.calls - calls_before == (0 if write_through else 1)


class HeldDB(ProductDB):
    """A database whose next read returns its row, then waits until the test lets it go on:
    the reader holds an old row while a writer updates and invalidates."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.read_done = asyncio.Event()
        self.release = asyncio.Event()
        self.hold = True

    async def get(self, product_id: int) -> Product | None:
        product = await super().get(product_id)
        if self.hold:
            self.hold = False
            self.read_done.set()
            await self.release.wait()
        return product


@pytest.mark.parametrize("write_through", [True, False])
async def test_a_slow_reader_cannot_put_back_a_value_older_than_the_invalidation(
    r, namespace, write_through
) -> None:
    # Given a reader that loaded price 100 (version 1) and is slow to store it
    db = HeldDB()
    db.seed(1)
    cache = cache_for(r, db, namespace, single_flight=False)
    slow_reader = asyncio.create_task(cache.get(1))
    await asyncio.wait_for(db.read_done.wait(), 5)

    # When a writer updates the row and invalidates, and only then the reader stores its row
    await cache.set_price(1, 777, write_through=write_through)
    db.release.set()
    old = await slow_reader

    # Then the old row is not what the cache serves
    assert old is not None and old.price_cents == 100  # it was read before the write
    after = await cache.get(1)
    assert after is not None and (after.price_cents, after.version) == (777, 2)
    db.close()


async def test_under_concurrent_writes_no_read_is_older_than_a_finished_write(
    r, db, namespace
) -> None:
    cache = cache_for(r, db, namespace)
    rng = random.Random(14)
    finished = 1  # version of the newest write that has completed
    stale: list[tuple[int, int]] = []

    async def writer() -> None:
        nonlocal finished
        for price in range(1, 41):
            product = await cache.set_price(7, price, write_through=rng.random() < 0.5)
            assert product is not None
            finished = max(finished, product.version)
            await asyncio.sleep(0)

    async def reader() -> None:
        for _ in range(60):
            floor = finished  # a read that starts now must see at least this version
            product = await cache.get(7)
            assert product is not None
            if product.version < floor:
                stale.append((product.version, floor))
            await asyncio.sleep(0)

    await asyncio.gather(writer(), writer(), *(reader() for _ in range(6)))

    assert stale == []
    assert cache.stats.hits > 0  # the cache was really in play, not bypassed


class ClockDB(ProductDB):
    """A database whose every read takes 100 ms on the test's own clock."""

    def __init__(self, now: list[float]) -> None:
        super().__init__(":memory:")
        self.now = now

    async def get(self, product_id: int) -> Product | None:
        self.now[0] += 0.1
        return await super().get(product_id)


async def test_early_refresh_reloads_a_hit_near_expiry_and_not_a_fresh_one(r, namespace) -> None:
    now = [1_000_000.0]
    db = ClockDB(now)
    db.seed(2)
    # rand = 1e-9 makes the gap delta * beta * -ln(rand) = 100 ms * 20.7 = 2.1 s; 0.5 makes 69 ms
    draws = iter([1e-9, 0.5, 1e-9])
    cache = cache_for(r, db, namespace, ttl_s=60, beta=1.0, rng=lambda: next(draws),
                      clock=lambda: now[0])  # fmt: skip
    await cache.get(2)  # a miss: loaded in 100 ms, expires 60 s later

    await cache.get(2)  # 60 s left: even the unlucky draw (2.1 s) does not reach the expiry
    assert (cache.stats.early_refreshes, db.calls) == (0, 1)

    now[0] += 59  # 1 s left
    await cache.get(2)  # an ordinary draw (69 ms) does not reach it either
    assert (cache.stats.early_refreshes, db.calls) == (0, 1)
    await cache.get(2)  # the unlucky one does: this caller reloads before the entry expires
    assert (cache.stats.early_refreshes, db.calls) == (1, 2)
    db.close()
