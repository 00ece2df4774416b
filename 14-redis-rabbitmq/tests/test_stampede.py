"""Stampede protection: 100 concurrent misses on one key load it once; the lock is released
only by its holder; a holder that dies does not block the key for longer than the lock's TTL."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aredis

from messaging.cache import ProductCache
from messaging.productdb import Product, ProductDB
from messaging.singleflight import SingleFlight

pytestmark = pytest.mark.redis


@pytest.fixture
def slow_db():
    # A slow load keeps the key missing while all 100 callers arrive: the stampede window.
    database = ProductDB(":memory:", delay=0.05)
    database.seed(1)
    yield database
    database.close()


async def stampede(r: aredis.Redis, cache: ProductCache) -> list[Product | None]:
    # Open 100 connections first: with a cold pool the first callers could finish their load
    # while the last ones are still connecting, and those would hit instead of miss.
    await asyncio.gather(*(r.ping() for _ in range(100)))
    return await asyncio.gather(*(cache.get(1) for _ in range(100)))


async def test_100_concurrent_misses_with_single_flight_load_once(r, slow_db, namespace) -> None:
    cache = ProductCache(r, slow_db, namespace=namespace, ttl_s=60, negative_ttl_s=5, beta=0)

    results = await stampede(r, cache)

    assert slow_db.calls == 1
    assert all(p is not None and p.price_cents == 100 for p in results)
    assert cache.stats.misses == 100 and cache.stats.waits == 99


async def test_without_single_flight_every_miss_reaches_the_database(r, slow_db, namespace) -> None:
    cache = ProductCache(
        r, slow_db, namespace=namespace, ttl_s=60, negative_ttl_s=5, beta=0, single_flight=False
    )

    await stampede(r, cache)

    assert cache.stats.misses == 100
    assert slow_db.calls == 100  # each caller that missed loaded for itself


async def test_only_the_holder_can_release_the_lock(r, namespace) -> None:
    lock = SingleFlight(r, ttl_ms=10_000)
    key = f"{namespace}:lock"
    mine = await lock.acquire(key)
    assert mine is not None
    assert await lock.acquire(key) is None  # held: nobody else gets it

    # Our lock expires while we are slow, and another caller takes it
    await r.delete(key)
    theirs = await lock.acquire(key)
    assert theirs is not None

    assert await lock.release(key, mine) is False  # the token check keeps their lock alive
    assert await r.get(key) == theirs
    assert await lock.release(key, theirs) is True
    assert await r.exists(key) == 0


async def test_a_holder_that_never_releases_blocks_only_until_the_lock_expires(
    r, db, namespace
) -> None:
    cache = ProductCache(
        r, db, namespace=namespace, ttl_s=60, negative_ttl_s=5, beta=0, lock_ttl_ms=100
    )
    # A crashed loader: it took the lock and will never store a value or release it
    crashed = SingleFlight(r, ttl_ms=100)
    assert await crashed.acquire(f"{namespace}:product:v1:{{1}}:lock") is not None

    product = await asyncio.wait_for(cache.get(1), 5)

    assert product is not None and product.id == 1
    assert db.calls == 1
