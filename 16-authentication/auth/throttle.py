"""Login throttling: per account and per client IP, growing delays, never a permanent lock.

After ``free`` failures in a window, each further failure blocks the key for a delay that
doubles (1 s, 2 s, 4 s ...) up to a cap. A permanent lock-out would hand an attacker a way to
lock any user out by typing wrong passwords for them; a capped delay keeps the owner able to
log in while making an online guesser's life slow. The per-IP key catches one client trying
many accounts (credential stuffing), which the per-account key alone would not see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis


class Counters(Protocol):
    async def incr(self, key: str, ttl_s: int) -> int: ...
    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, value: str, ttl_s: int) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    async def aclose(self) -> None: ...


class MemoryCounters:
    """One process only: fine for the embedded default, wrong behind a load balancer."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> str | None:
        value, expires = self._data.get(key, ("", 0.0))
        if expires <= time.monotonic():
            self._data.pop(key, None)
            return None
        return value

    async def incr(self, key: str, ttl_s: int) -> int:
        count = int(self._live(key) or 0) + 1
        self._data[key] = (str(count), time.monotonic() + ttl_s)
        return count

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        self._data[key] = (value, time.monotonic() + ttl_s)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def aclose(self) -> None:
        self._data.clear()


class RedisCounters:
    """Shared by every instance of the app: an attacker cannot spread guesses across them."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix + "throttle:"

    async def incr(self, key: str, ttl_s: int) -> int:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, ttl_s)
            count, _ = await pipe.execute()
        return int(count)

    async def get(self, key: str) -> str | None:
        value = await self.client.get(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        await self.client.set(self.prefix + key, value, ex=ttl_s)

    async def delete(self, *keys: str) -> None:
        await self.client.delete(*(self.prefix + k for k in keys))

    async def aclose(self) -> None:
        pass  # the client belongs to whoever made it


@dataclass(frozen=True)
class Limit:
    key: str  # "user:ada" or "ip:203.0.113.9"
    free: int  # failures allowed in a window before delays start


class Throttle:
    def __init__(self, counters: Counters, base_s: float, cap_s: float, window_s: int) -> None:
        self.counters, self.base_s, self.cap_s, self.window_s = counters, base_s, cap_s, window_s

    def delay_after(self, failures: int, free: int) -> float:
        if failures <= free:
            return 0.0
        return min(self.cap_s, self.base_s * 2 ** (failures - free - 1))

    async def retry_after(self, limits: list[Limit], now: float) -> float:
        """Seconds until every key may try again (0: go ahead)."""
        waits = []
        for limit in limits:
            until = await self.counters.get(limit.key + ":until")
            waits.append(float(until) - now if until else 0.0)
        return max([0.0, *waits])

    async def failed(self, limits: list[Limit], now: float) -> None:
        for limit in limits:
            failures = await self.counters.incr(limit.key + ":n", self.window_s)
            delay = self.delay_after(failures, limit.free)
            if delay:
                ttl = int(delay) + 2  # the key outlives the block a little, then goes
                await self.counters.put(limit.key + ":until", repr(now + delay), ttl)

    async def succeeded(self, limit: Limit) -> None:
        """A good login clears the account's count; the IP's stays (one good password does
        not excuse a hundred wrong ones from the same address)."""
        await self.counters.delete(limit.key + ":n", limit.key + ":until")
