"""A single-flight lock on Redis: of many callers that miss the same key, one loads it.

`SET key token NX PX ttl` takes the lock only if nobody holds it, and gives it a lifetime so a
holder that dies does not block the key forever. Releasing must check the token: if our lock
expired while we were slow and another caller took it, a plain DEL would free *their* lock.
GET-compare-DEL runs as one Lua script, so nothing can happen between the compare and the DEL.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class SingleFlight:
    def __init__(self, redis: Redis, ttl_ms: int) -> None:
        self._redis = redis
        self._ttl_ms = ttl_ms
        self._release = redis.register_script(RELEASE)

    async def acquire(self, key: str) -> str | None:
        """The token proving we hold the lock, or None when somebody else holds it."""
        token = secrets.token_hex(8)
        taken = await self._redis.set(key, token, nx=True, px=self._ttl_ms)
        return token if taken else None

    async def release(self, key: str, token: str) -> bool:
        """Free the lock if it is still ours; False means it expired (and maybe moved on)."""
        return bool(await self._release(keys=[key], args=[token]))

    async def held(self, key: str) -> bool:
        return bool(await self._redis.exists(key))
