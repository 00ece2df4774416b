"""bench.py's Redis measurements: the cache, the stampede, and pipelining."""

from __future__ import annotations

import asyncio
import random
import statistics
import time

import redis.asyncio as aredis

from messaging.cache import ProductCache
from messaging.productdb import ProductDB
from tools.measure import median_seconds


async def hit_vs_miss(r: aredis.Redis, ns: str, delay: float, n: int) -> tuple[float, float]:
    """Median seconds of one lookup that misses (goes to the database) and one that hits."""
    db = ProductDB(":memory:", delay=delay)
    db.seed(n)
    cache = ProductCache(r, db, namespace=f"{ns}:hm", ttl_s=600, negative_ttl_s=60, beta=0)
    misses, hits = [], []
    for product_id in range(1, n + 1):
        start = time.perf_counter()
        await cache.get(product_id)
        misses.append(time.perf_counter() - start)
        start = time.perf_counter()
        await cache.get(product_id)
        hits.append(time.perf_counter() - start)
    db.close()
    return statistics.median(misses), statistics.median(hits)


async def workload(r: aredis.Redis, ns: str, lookups: int, products: int) -> tuple[int, float]:
    """Database calls for `lookups` skewed lookups (80% on 20% of the products) through the
    cache, and the hit ratio; without a cache every lookup is a call."""
    db = ProductDB(":memory:", delay=0)
    db.seed(products)
    cache = ProductCache(r, db, namespace=f"{ns}:wl", ttl_s=600, negative_ttl_s=60)
    rng = random.Random(14)
    hot = max(1, products // 5)
    for _ in range(lookups):
        hot_pick = rng.random() < 0.8
        await cache.get(rng.randint(1, hot) if hot_pick else rng.randint(hot + 1, products))
    calls, ratio = db.calls, cache.stats.hit_ratio
    db.close()
    return calls, ratio


async def stampede(r: aredis.Redis, ns: str, single_flight: bool, delay: float) -> int:
    """Database calls when 100 callers miss the same key at once."""
    db = ProductDB(":memory:", delay=delay)
    db.seed(1)
    key_space = f"{ns}:st:{random.getrandbits(32)}"  # a cold key every time
    cache = ProductCache(r, db, namespace=key_space, ttl_s=600, negative_ttl_s=60,
                         single_flight=single_flight, beta=0)  # fmt: skip
    await asyncio.gather(*(cache.get(1) for _ in range(100)))
    db.close()
    return db.calls


async def pipelining(r: aredis.Redis, ns: str, n: int, repeats: int) -> tuple[float, float]:
    """Median seconds for n SETs one round trip each, and for the same n in one pipeline."""
    keys = [f"{ns}:pl:{i}" for i in range(n)]

    async def one_by_one() -> None:
        for key in keys:
            await r.set(key, "x")

    async def pipelined() -> None:
        async with r.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, "x")
            await pipe.execute()

    return await median_seconds(one_by_one, repeats), await median_seconds(pipelined, repeats)
