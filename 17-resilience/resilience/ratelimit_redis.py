"""The five limiters of ``ratelimit.py`` on Redis, each one atomic Lua script.

Why Lua: read-decide-write must be one step when several app processes share a key; a script
runs alone on the server, so two processes can never both read "4 of 5 used" and both write 5.

Which clock: the script reads Redis's own ``TIME``. Every app process then judges a request by
one clock, so hosts whose clocks differ by 50 ms still agree on which window a request is in
(with each caller's own clock, a window edge would be wherever each host thinks it is). Redis 7
replicates a script's effects, not the script, so a non-deterministic ``TIME`` is allowed. A
caller may still pass its own time (``clock=``): the tests do, to check the same window edges
as in memory without sleeping. Mixing the two on one key would mix two clocks; don't.

Lua numbers are doubles: integers are exact up to 2**53 (microseconds since 1970 are ~2**51),
and every value written back is formatted with ``%.0f``, because Redis turns a Lua number into
a string with 14 significant digits and a microsecond timestamp has 16.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import redis.asyncio as aioredis

from resilience.ratelimit import US, Decision, Policy

PROLOGUE = """
local n = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function fmt(x) return string.format('%.0f', x) end
local function idiv(a, b) return math.floor(a / b) end
local key = KEYS[1]
"""

# Each script ends by returning {allowed, remaining, retry_after_us, reset_us} and sets an
# expiry, so an idle client's key vanishes instead of staying in Redis forever.
EPILOGUE = """
redis.call('PEXPIRE', key, idiv(2 * w, 1000) + 1000)
return {allowed, remaining, retry, reset}
"""

SCRIPTS = {
    "fixed": """
local window = idiv(now, w)
local s = redis.call('HMGET', key, 'window', 'count')
local count = tonumber(s[2]) or 0
if tonumber(s[1]) ~= window then count = 0 end
local allowed = 0
if count < n then count = count + 1; allowed = 1 end
redis.call('HSET', key, 'window', fmt(window), 'count', fmt(count))
local reset = (window + 1) * w - now
local remaining = n - count
local retry = 0
if allowed == 0 then retry = reset end
""",
    "log": """
redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - w))
local count = redis.call('ZCARD', key)
local allowed = 0
if count < n then
  redis.call('ZADD', key, fmt(now), ARGV[4])
  count = count + 1
  allowed = 1
end
local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
local newest = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
local remaining = n - count
local retry = 0
if allowed == 0 then retry = oldest + w - now end
local reset = newest + w - now
""",
    "counter": """
local window = idiv(now, w)
local s = redis.call('HMGET', key, 'window', 'prev', 'curr')
local start = tonumber(s[1]) or window
local prev = tonumber(s[2]) or 0
local curr = tonumber(s[3]) or 0
if window == start + 1 then prev = curr; curr = 0 elseif window ~= start then prev = 0; curr = 0 end
local elapsed = now - window * w
local weighted = prev * (w - elapsed)
local allowed = 0
if weighted + (curr + 1) * w <= n * w then curr = curr + 1; allowed = 1 end
redis.call('HSET', key, 'window', fmt(window), 'prev', fmt(prev), 'curr', fmt(curr))
local remaining = idiv(n * w - weighted, w) - curr
local retry = 0
if allowed == 0 then
  if curr + 1 <= n then
    retry = math.max(1, w - elapsed - idiv((n - curr - 1) * w, prev))
  else
    retry = w - elapsed + math.max(0, w - idiv((n - 1) * w, curr))
  end
end
local reset = w - elapsed
if curr > 0 then reset = reset + w end
""",
    "token": """
local s = redis.call('HMGET', key, 'units', 'stamp')
local units = tonumber(s[1]) or n * w
local stamp = tonumber(s[2]) or now
units = math.min(n * w, units + math.min(w, math.max(0, now - stamp)) * n)
local allowed = 0
if units >= w then units = units - w; allowed = 1 end
redis.call('HSET', key, 'units', fmt(units), 'stamp', fmt(now))
local remaining = idiv(units, w)
local retry = 0
if allowed == 0 then retry = -idiv(-(w - units), n) end
local reset = -idiv(-(n * w - units), n)
""",
    "gcra": """
local interval = idiv(w, n)
local tolerance = n * interval
local tat = math.max(tonumber(redis.call('GET', key)) or now, now)
local allowed = 0
if tat + interval - now <= tolerance then tat = tat + interval; allowed = 1 end
redis.call('SET', key, fmt(tat))
local remaining = idiv(tolerance - (tat - now), interval)
local retry = 0
if allowed == 0 then retry = tat + interval - tolerance - now end
local reset = tat - now
""",
}


class RedisLimiter:
    """One algorithm, one policy, keys under ``prefix``; the client is the caller's to close."""

    def __init__(
        self,
        client: aioredis.Redis,
        algorithm: str,
        policy: Policy,
        prefix: str,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if algorithm not in SCRIPTS:
            raise ValueError(f"unknown algorithm {algorithm!r}; one of {', '.join(SCRIPTS)}")
        self.algorithm, self.policy = algorithm, policy
        # register_script sends EVALSHA and falls back to EVAL once if Redis lacks the script.
        self._script = client.register_script(PROLOGUE + SCRIPTS[algorithm] + EPILOGUE)
        self._prefix = f"{prefix}{algorithm}:"
        self._clock = clock

    async def hit(self, key: str) -> Decision:
        now = "" if self._clock is None else str(round(self._clock() * US))
        # The sliding log's member must be unique: two requests in the same microsecond are
        # two entries, not one.
        member = os.urandom(8).hex()
        args = [self.policy.limit, self.policy.window_us, now, member]
        allowed, remaining, retry, reset = await self._script(keys=[self._prefix + key], args=args)
        p = self.policy
        return Decision(bool(allowed), p.limit, max(0, int(remaining)), int(retry),
                        max(0, int(reset)), p.window_s)  # fmt: skip

    async def aclose(self) -> None:
        """Nothing of its own to release: the Redis client belongs to the caller."""
