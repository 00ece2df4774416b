"""Token-bucket rate limiting, in this process or shared through Redis.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; a request
takes one token or is refused with the time until one is back. Both limiters compute the same
thing; the Redis one does it inside a Lua script, because read-refill-take-write must be one
atomic step when several gateway instances hit the same bucket at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: float  # 0 when allowed
    reset_s: float  # until the bucket is full again

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` (IETF httpapi draft) on every answer, ``Retry-After`` on a refusal."""
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_s)),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.retry_after_s)))
        return out


def _decision(allowed: bool, tokens_left: float, rate: float, burst: int) -> Decision:
    """The numbers a client sees, from the bucket's state after the decision."""
    wait = 0.0 if allowed else (1 - tokens_left) / rate
    return Decision(allowed, burst, math.floor(tokens_left), wait, (burst - tokens_left) / rate)


class MemoryRateLimiter:
    """Buckets in a dict. Exact for one process; N gateway processes would allow N times the rate.

    No lock: ``hit`` never awaits between reading and writing a bucket, and asyncio switches
    tasks only at an ``await``. Keys are API-client names, a bounded set, so the dict stays small.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._clock = clock  # injectable, so a test can move time without sleeping

    async def hit(self, key: str, rate: float, burst: int) -> Decision:
        now = self._clock()
        tokens, stamp = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - stamp) * rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._buckets[key] = (tokens, now)
        return _decision(allowed, tokens, rate, burst)

    async def aclose(self) -> None:
        self._buckets.clear()


# The clock is Redis's own (TIME), so gateway hosts with skewed clocks still agree.
# Tokens are returned as a string: Redis truncates Lua numbers to integers in replies.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
local left = string.format('%.6f', tokens)
redis.call('HSET', KEYS[1], 'tokens', left, 'stamp', string.format('%.6f', now))
-- An idle bucket is full again after burst/rate seconds; then the key may as well vanish.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, left}
"""


class RedisRateLimiter:
    """One bucket per key in a Redis hash, updated atomically by ``TOKEN_BUCKET_LUA``."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        # register_script sends EVALSHA and falls back to EVAL once if the script is not cached.
        self._script = self._redis.register_script(TOKEN_BUCKET_LUA)
        self._prefix = prefix

    async def ping(self) -> None:
        await self._redis.ping()

    async def hit(self, key: str, rate: float, burst: int) -> Decision:
        raw_allowed, raw_tokens = await self._script(keys=[self._prefix + key], args=[rate, burst])
        return _decision(bool(raw_allowed), float(raw_tokens), rate, burst)

    async def aclose(self) -> None:
        await self._redis.aclose()


def make_limiter(redis_url: str | None, prefix: str) -> MemoryRateLimiter | RedisRateLimiter:
    return RedisRateLimiter(redis_url, prefix) if redis_url else MemoryRateLimiter()
