"""Five rate limiters in this process: fixed window, sliding-window log, sliding-window counter,
token bucket and GCRA. Each allows ``limit`` requests per ``window_s`` seconds per key.

Time is kept in whole microseconds and the arithmetic is integer, so a limiter answers exactly
at a window's edge: with floats, 0.1 + 0.2 > 0.3 would refuse the request a test (or a client)
expects to pass. The clock is injectable: the tests move it instead of sleeping.
The same five algorithms run on Redis as Lua scripts in ``ratelimit_redis.py``.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

US = 1_000_000
ALGORITHMS = ("fixed", "log", "counter", "token", "gcra")


@dataclass(frozen=True)
class Policy:
    limit: int  # requests allowed ...
    window_s: float  # ... per this many seconds

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")
        # GCRA spaces requests window/limit apart, in whole microseconds: it must be >= 1 us.
        if self.window_us < self.limit:
            raise ValueError(f"window of {self.window_s} s is too short for {self.limit} requests")

    @property
    def window_us(self) -> int:
        return round(self.window_s * US)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int  # requests still allowed right now
    retry_after_us: int  # 0 when allowed: when the next request would be
    reset_us: int  # until the limiter has forgotten this key's requests
    window_s: float

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` (IETF httpapi draft) on every answer, ``Retry-After`` on a refusal.
        Both are whole seconds, rounded up: a client that waits that long is let in."""
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_us / US)),
            "RateLimit-Policy": f"{self.limit};w={self.window_s:g}",
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.retry_after_us / US)))
        return out


class Limiter(Protocol):
    algorithm: str
    policy: Policy

    async def hit(self, key: str) -> Decision:
        """Count one request for ``key``, or refuse it and say when to come back."""

    async def aclose(self) -> None:
        """Release connections."""


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class MemoryLimiter(ABC):
    """State in a dict, one entry per key. Exact within one process; N processes each keep
    their own dict and together allow N times the limit (bench.py measures it).

    No lock: ``decide`` never awaits, and asyncio switches tasks only at an ``await``.
    Keys come from clients, so the dict is capped: past ``max_keys`` the oldest key is
    forgotten (that client starts afresh, which errs towards letting it in).
    """

    algorithm: ClassVar[str]

    def __init__(
        self, policy: Policy, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.policy, self._clock, self._max_keys = policy, clock, max_keys
        self._state: dict[str, object] = {}

    async def hit(self, key: str) -> Decision:
        return self.decide(key, round(self._clock() * US))

    def decide(self, key: str, now: int) -> Decision:
        state = self._state.pop(key, None)  # re-inserted below: the dict stays in LRU order
        decision, state = self._step(state, now)
        self._state[key] = state
        if len(self._state) > self._max_keys:
            del self._state[next(iter(self._state))]
        return decision

    @abstractmethod
    def _step(self, state: object, now: int) -> tuple[Decision, object]:
        """The algorithm: (decision, new state) from the key's state (None if new) at ``now``."""

    def _decision(self, allowed: bool, remaining: int, retry: int, reset: int) -> Decision:
        p = self.policy
        return Decision(allowed, p.limit, max(0, remaining), retry, max(0, reset), p.window_s)

    async def aclose(self) -> None:
        self._state.clear()


class FixedWindow(MemoryLimiter):
    """A counter per window [k*W, (k+1)*W). Cheap, but a client may send ``limit`` at the end
    of one window and ``limit`` again at the start of the next: 2x the limit in a moment."""

    algorithm = "fixed"

    def _step(self, state: object, now: int) -> tuple[Decision, object]:
        n, w = self.policy.limit, self.policy.window_us
        window = now // w
        start, count = state if isinstance(state, tuple) else (window, 0)
        if start != window:
            count = 0
        allowed = count < n
        count += allowed
        reset = (window + 1) * w - now
        return self._decision(allowed, n - count, 0 if allowed else reset, reset), (window, count)


class SlidingLog(MemoryLimiter):
    """Every allowed request's time, kept for one window: exact, memory grows with the limit.
    A refused request is not logged, or a client that keeps knocking would never get in."""

    algorithm = "log"

    def _step(self, state: object, now: int) -> tuple[Decision, object]:
        n, w = self.policy.limit, self.policy.window_us
        log: deque[int] = state if isinstance(state, deque) else deque()
        while log and log[0] <= now - w:  # a request at t counts during [t, t + W)
            log.popleft()
        allowed = len(log) < n
        if allowed:
            log.append(now)
        retry = 0 if allowed else log[0] + w - now
        return self._decision(allowed, n - len(log), retry, log[-1] + w - now), log


class SlidingCounter(MemoryLimiter):
    """Two counters, this window's and the previous one's, the previous weighted by how much
    of it still overlaps the sliding window (Cloudflare's approximation). Allowed while
    prev * (W - elapsed) / W + current + 1 <= limit, multiplied out by W to stay integer."""

    algorithm = "counter"

    def _step(self, state: object, now: int) -> tuple[Decision, object]:
        n, w = self.policy.limit, self.policy.window_us
        window = now // w
        start, prev, curr = state if isinstance(state, tuple) else (window, 0, 0)
        if window == start + 1:
            prev, curr = curr, 0
        elif window != start:
            prev, curr = 0, 0
        elapsed = now - window * w
        weighted = prev * (w - elapsed)  # the previous window's count, times W
        allowed = weighted + (curr + 1) * w <= n * w
        curr += allowed
        remaining = (n * w - weighted) // w - curr
        retry = 0 if allowed else self._wait(prev, curr, elapsed)
        reset = w - elapsed + (w if curr else 0)
        return self._decision(allowed, remaining, retry, reset), (window, prev, curr)

    def _wait(self, prev: int, curr: int, elapsed: int) -> int:
        """Microseconds until one more request fits, if nobody sends anything meanwhile."""
        n, w = self.policy.limit, self.policy.window_us
        if curr + 1 <= n:  # this window has room once enough of the previous one slides out
            return max(1, w - elapsed - (n - curr - 1) * w // prev)
        # Not before the next window, where this window's count becomes the weighted one.
        return w - elapsed + max(0, w - (n - 1) * w // curr)


class TokenBucket(MemoryLimiter):
    """``limit`` tokens, refilled at limit/W per second; a request takes one. In integer units:
    a token is W units and the bucket gains ``limit`` units per microsecond."""

    algorithm = "token"

    def _step(self, state: object, now: int) -> tuple[Decision, object]:
        n, w = self.policy.limit, self.policy.window_us
        units, stamp = state if isinstance(state, tuple) else (n * w, now)
        # After W the bucket is full whatever the gap: clamping keeps the product small.
        units = min(n * w, units + min(w, max(0, now - stamp)) * n)
        allowed = units >= w
        units -= w if allowed else 0
        retry = 0 if allowed else ceil_div(w - units, n)
        reset = ceil_div(n * w - units, n)
        return self._decision(allowed, units // w, retry, reset), (units, now)


class GCRA(MemoryLimiter):
    """Generic cell rate algorithm: one number per key, the theoretical arrival time (TAT) of
    the next request if they came evenly, every T = W / limit. A request is allowed when it
    is no more than ``limit`` intervals early. A token bucket in one timestamp, no refill loop.
    T is rounded down to a whole microsecond, so the sustained rate may be a hair above limit/W.
    """

    algorithm = "gcra"

    def _step(self, state: object, now: int) -> tuple[Decision, object]:
        n = self.policy.limit
        interval = self.policy.window_us // n
        tolerance = n * interval  # how far ahead of now the TAT may run: a burst of n
        tat = max(state if isinstance(state, int) else now, now)
        allowed = tat + interval - now <= tolerance
        if allowed:
            tat += interval
        retry = 0 if allowed else tat + interval - tolerance - now
        remaining = (tolerance - (tat - now)) // interval
        return self._decision(allowed, remaining, retry, tat - now), tat


MEMORY_LIMITERS: dict[str, type[MemoryLimiter]] = {
    cls.algorithm: cls for cls in (FixedWindow, SlidingLog, SlidingCounter, TokenBucket, GCRA)
}
