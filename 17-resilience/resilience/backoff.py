"""How long to wait before retry number ``attempt`` (1 = the first retry), five ways.

The jittered formulas are the ones in "Exponential Backoff And Jitter" (Marc Brooker, AWS
Architecture Blog, 2015), with ``base`` and ``cap`` in seconds:

    none          0                          retry at once
    exponential   min(cap, base * 2**attempt)  no jitter: every client waits the same
    full          random(0, min(cap, base * 2**attempt))
    equal         t / 2 + random(0, t / 2), with t = min(cap, base * 2**attempt)
    decorrelated  min(cap, random(base, previous * 3)), previous starting at base

Without jitter, clients that failed together retry together, in waves. Jitter spreads them
out; full jitter spreads most, equal jitter keeps a floor of t / 2, decorrelated grows from
the previous delay instead of from the attempt number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

STRATEGIES = ("none", "exponential", "full", "equal", "decorrelated")


@dataclass(frozen=True)
class Backoff:
    strategy: str = "full"
    base_s: float = 0.05
    cap_s: float = 5.0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown backoff {self.strategy!r}; one of {', '.join(STRATEGIES)}")
        if not 0 < self.base_s <= self.cap_s:
            raise ValueError(f"need 0 < base_s <= cap_s, got {self.base_s} and {self.cap_s}")

    def ceiling(self, attempt: int) -> float:
        """min(cap, base * 2**attempt), without overflowing for a large attempt number."""
        return self.cap_s if attempt >= 64 else min(self.cap_s, self.base_s * 2**attempt)

    def delay(self, attempt: int, previous: float, rng: random.Random) -> float:
        """Seconds before retry ``attempt``; ``previous`` is the last delay (decorrelated)."""
        if self.strategy == "none":
            return 0.0
        t = self.ceiling(attempt)
        if self.strategy == "exponential":
            return t
        if self.strategy == "full":
            return rng.uniform(0, t)
        if self.strategy == "equal":
            return t / 2 + rng.uniform(0, t / 2)
        # decorrelated: the first retry grows from base; later ones from the last delay.
        return min(self.cap_s, rng.uniform(self.base_s, max(previous, self.base_s) * 3))
