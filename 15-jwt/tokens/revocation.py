"""Revocation for stateless tokens: a denylist of ``jti`` and a token version per user.

A signed token stays valid until ``exp`` whatever happens on the server, so revoking one
needs state that every verifier consults on every request:

* **denylist**: ``deny:<jti>`` kept exactly as long as the token could still verify - its
  remaining life plus the leeway - so the list never outgrows the set of live tokens;
* **token version**: ``ver:<sub>``, a counter per user. Each access token carries the ``ver``
  it was issued with; "log out everywhere" increments the counter, and every older token is
  refused at once, without knowing their jtis.

Both answer in one round trip (Redis MGET). In memory by default; in Redis when
``REDIS_URL`` is set, so that every instance of the API sees the same revocations.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable
from typing import Any, Protocol

import redis.asyncio as aioredis


class RevocationUnavailable(Exception):
    """The store did not answer. Callers fail closed: a revoked token must not pass."""


class Revocations(Protocol):
    async def revoke(self, jti: str, exp: float) -> None: ...
    async def bump_version(self, sub: str) -> int: ...
    async def version(self, sub: str) -> int: ...
    async def check(self, jti: str, sub: str) -> tuple[bool, int]:
        """(is this jti denied, the user's current token version)"""

    async def aclose(self) -> None: ...


def _ttl(exp: float, leeway_s: float, now: float) -> int:
    return math.ceil(exp + leeway_s - now)


class MemoryRevocations:
    """One process only: fine for the demo and tests, wrong behind a load balancer."""

    def __init__(self, leeway_s: float) -> None:
        self.leeway_s = leeway_s
        self._denied: dict[str, float] = {}  # jti -> when the entry may be forgotten
        self._versions: dict[str, int] = {}

    async def revoke(self, jti: str, exp: float) -> None:
        now = time.time()
        if _ttl(exp, self.leeway_s, now) <= 0:
            return  # already unusable: nothing to remember
        self._denied[jti] = exp + self.leeway_s
        if len(self._denied) % 1024 == 0:  # sweep now and then, so memory follows live tokens
            self._denied = {j: t for j, t in self._denied.items() if t > now}

    async def bump_version(self, sub: str) -> int:
        self._versions[sub] = self._versions.get(sub, 0) + 1
        return self._versions[sub]

    async def version(self, sub: str) -> int:
        return self._versions.get(sub, 0)

    async def check(self, jti: str, sub: str) -> tuple[bool, int]:
        until = self._denied.get(jti)
        return (until is not None and until > time.time()), self._versions.get(sub, 0)

    async def aclose(self) -> None:
        return None


class RedisRevocations:
    def __init__(self, url: str, prefix: str, leeway_s: float) -> None:
        self.prefix, self.leeway_s = prefix, leeway_s
        # A short socket timeout: this sits on every request's path.
        self.client = aioredis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, decode_responses=True
        )

    def _deny(self, jti: str) -> str:
        return f"{self.prefix}deny:{jti}"

    def _ver(self, sub: str) -> str:
        return f"{self.prefix}ver:{sub}"

    async def revoke(self, jti: str, exp: float) -> None:
        ttl = _ttl(exp, self.leeway_s, time.time())
        if ttl > 0:
            await self._call(self.client.set(self._deny(jti), "1", ex=ttl))

    async def bump_version(self, sub: str) -> int:
        # INCR is atomic: two "log out everywhere" at once both count.
        return int(await self._call(self.client.incr(self._ver(sub))))

    async def version(self, sub: str) -> int:
        return int(await self._call(self.client.get(self._ver(sub))) or 0)

    async def check(self, jti: str, sub: str) -> tuple[bool, int]:
        denied, ver = await self._call(self.client.mget(self._deny(jti), self._ver(sub)))
        return denied is not None, int(ver or 0)

    async def ping(self) -> None:
        await self._call(self.client.ping())

    async def _call(self, awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        except (aioredis.RedisError, OSError) as exc:
            raise RevocationUnavailable(f"Redis: {type(exc).__name__}") from None

    async def aclose(self) -> None:
        await self.client.aclose()
