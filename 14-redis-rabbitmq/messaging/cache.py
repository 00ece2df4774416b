"""Cache-aside in front of the slow product table, with the failure modes handled.

- **Cache-aside with TTL**: read Redis; on a miss read the database and store the answer with
  a lifetime, so an entry nobody invalidates still goes away.
- **Versioned keys**: every row has a version (productdb.py). The cache keeps a pointer
  `...:{id}:ver` to the newest version it knows of, and entries under `...:{id}:at:<version>`.
  A writer moves the pointer forward; a reader that loaded an *old* row while the write
  happened stores it under the old version, where nobody looks any more. That is how the cache
  never serves a value older than its last invalidation, without locks around the database.
- **Write-through vs invalidate-on-write**: after an update, either store the new row at once
  (the next read is a hit) or only move the pointer (the next read loads it). Both are safe here
  because a store never moves the pointer backwards (the FILL script).
- **Negative caching**: "no such product" is stored too (version 0), for a shorter TTL.
- **Serialisation**: JSON of a pydantic model; the `v1` in every key is the format's version,
  so a deploy that changes the format reads new keys instead of misreading old ones.
- **Stampede protection**: on a miss one caller takes a single-flight lock and loads; the others
  wait for its result. Near expiry, a hit may refresh early with a probability that grows as
  the expiry nears (XFetch), so a hot key is reloaded by one caller before it ever expires.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from messaging.productdb import Product, ProductDB
from messaging.singleflight import SingleFlight

FORMAT = "v1"  # bump when the JSON shape of an entry changes

# One round trip: the pointer, and the entry it points at. The entry key is built in the
# script from the pointer; the {id} hash tag keeps both keys in one slot on a cluster.
READ = """
local ver = redis.call('GET', KEYS[1])
if not ver then return {false, false} end
return {ver, redis.call('GET', ARGV[1] .. ver)}
"""

# Store an entry unless the pointer already names a newer version, and move the pointer
# forward (never back). A reader holding a row older than the pointer stores nothing.
FILL = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
local v = tonumber(ARGV[1])
if v < cur then return 0 end
redis.call('SET', ARGV[4] .. ARGV[1], ARGV[2], 'PX', ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
return 1
"""

# Invalidate: move the pointer forward to the version the database just wrote.
BUMP = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > cur then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    early_refreshes: int = 0
    waits: int = 0  # misses that waited for another caller's load instead of loading

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class ProductCache:
    def __init__(
        self,
        redis: Redis,
        db: ProductDB,
        *,
        namespace: str,
        ttl_s: float,
        negative_ttl_s: float,
        lock_ttl_ms: int = 5_000,
        single_flight: bool = True,
        beta: float = 1.0,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis, self._db = redis, db
        self._prefix = f"{namespace}:product:{FORMAT}"
        self._ttl_ms, self._negative_ttl_ms = int(ttl_s * 1000), int(negative_ttl_s * 1000)
        # The pointer outlives entries by far: losing it while a slow reader is in flight is
        # the one way a stale entry could be stored (docs/notes.md).
        self._pointer_ttl_ms = max(self._ttl_ms * 10, 3_600_000)
        self._lock = SingleFlight(redis, lock_ttl_ms) if single_flight else None
        self._lock_wait = lock_ttl_ms / 1000
        self._beta, self._rng, self._clock = beta, rng, clock
        self._read, self._fill = redis.register_script(READ), redis.register_script(FILL)
        self._bump = redis.register_script(BUMP)
        self.stats = CacheStats()

    def _keys(self, product_id: int) -> tuple[str, str, str]:
        base = f"{self._prefix}:{{{product_id}}}"
        return f"{base}:ver", f"{base}:at:", f"{base}:lock"

    async def get(self, product_id: int) -> Product | None:
        pointer, entries, lock = self._keys(product_id)
        entry = await self._cached(pointer, entries)
        if entry is not None:
            if not self._refresh_early(entry):
                self.stats.hits += 1
                return _product(entry)
            # Near expiry: whoever gets the lock reloads now; everyone else keeps the old entry.
            token = await self._lock.acquire(lock) if self._lock else "no-lock"
            if token is None:
                self.stats.hits += 1
                return _product(entry)
            self.stats.early_refreshes += 1
            return await self._load(product_id, lock, token)
        self.stats.misses += 1
        if self._lock is None:
            return await self._load(product_id, None, None)
        return await self._single_flight(product_id, pointer, entries, lock)

    async def _single_flight(
        self, product_id: int, pointer: str, entries: str, lock: str
    ) -> Product | None:
        assert self._lock is not None
        deadline = time.monotonic() + self._lock_wait
        pause, waited = 0.002, False
        while time.monotonic() < deadline:
            token = await self._lock.acquire(lock)
            if token is not None:
                # Check again under the lock: the previous holder may have stored the entry
                # and released the lock between our last look and our acquire.
                entry = await self._cached(pointer, entries)
                if entry is None:
                    return await self._load(product_id, lock, token)
                await self._lock.release(lock, token)
                return _product(entry)
            if not waited:
                waited, self.stats.waits = True, self.stats.waits + 1
            # Somebody else is loading: wait for their entry rather than load again.
            while time.monotonic() < deadline:
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.02)
                entry = await self._cached(pointer, entries)
                if entry is not None:
                    return _product(entry)
                if not await self._lock.held(lock):
                    break  # the holder died or failed: try to take the lock ourselves
        # The deadline is for the whole lookup: past it, go to the database directly.
        return await self._load(product_id, None, None)

    async def _cached(self, pointer: str, entries: str) -> dict[str, object] | None:
        _version, raw = await self._read(keys=[pointer], args=[entries])
        return json.loads(raw) if raw else None

    def _refresh_early(self, entry: dict[str, object]) -> bool:
        """XFetch: refresh when now + delta * beta * -ln(rand) passes the expiry time."""
        if self._beta <= 0:
            return False
        delta, expires = float(entry["delta"]), float(entry["exp"])  # type: ignore[arg-type]
        gap = -delta * self._beta * math.log(max(self._rng(), 1e-12))
        return self._clock() * 1000 + gap >= expires

    async def _load(self, product_id: int, lock: str | None, token: str | None) -> Product | None:
        try:
            started = self._clock()
            product = await self._db.get(product_id)
            delta_ms = (self._clock() - started) * 1000
            await self._store(product_id, product, delta_ms)
            return product
        finally:
            if lock and token and self._lock:
                await self._lock.release(lock, token)

    async def _store(self, product_id: int, product: Product | None, delta_ms: float) -> bool:
        pointer, entries, _ = self._keys(product_id)
        ttl = self._ttl_ms if product else self._negative_ttl_ms
        envelope = {
            "p": product.model_dump() if product else None,
            "exp": self._clock() * 1000 + ttl,
            "delta": delta_ms,
        }
        version = product.version if product else 0  # 0: the tombstone of a missing row
        args: list[str | int] = [version, json.dumps(envelope), ttl, entries, self._pointer_ttl_ms]
        return bool(await self._fill(keys=[pointer], args=args))

    async def set_price(
        self, product_id: int, price_cents: int, *, write_through: bool
    ) -> Product | None:
        """Update the database, then either store the new row or just invalidate."""
        product = await self._db.set_price(product_id, price_cents)
        if product is None:
            return None
        if write_through:
            await self._store(product_id, product, 0.0)
        else:
            pointer, _, _ = self._keys(product_id)
            await self._bump(keys=[pointer], args=[product.version, self._pointer_ttl_ms])
        return product


def _product(entry: dict[str, object]) -> Product | None:
    data = entry["p"]
    return Product.model_validate(data) if data is not None else None
