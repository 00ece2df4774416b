"""Client-side adaptive throttling, from Google's SRE book ("Handling Overload", chapter 21).

Each client counts, over the last ``window_s`` (two minutes in the book):
    requests  the calls the application wanted to make
    accepts   the calls the backend accepted (answered with anything but "overloaded")
and refuses a call *itself*, before sending it, with probability

    max(0, (requests - K * accepts) / (requests + 1))

While the backend accepts everything, requests <= K * accepts and nothing is refused. When it
starts rejecting, the client sheds the excess locally, so the backend stops spending work on
rejections it cannot afford. K = 2 lets up to twice the accepted rate through: some headroom,
so the client notices quickly when the backend recovers.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable


class AdaptiveThrottle:
    def __init__(
        self,
        k: float = 2.0,
        window_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if k < 1 or window_s <= 0:
            raise ValueError("need k >= 1 and window_s > 0")
        self.k, self.window_s, self._clock = k, window_s, clock
        self._rng = rng or random.Random()
        # One bucket per second: [second, requests, accepts]; old seconds drop off the left.
        self._buckets: deque[list[int]] = deque()
        self.refused_locally = 0

    def _bucket(self) -> list[int]:
        second = int(self._clock())
        while self._buckets and self._buckets[0][0] <= second - self.window_s:
            self._buckets.popleft()
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append([second, 0, 0])
        return self._buckets[-1]

    def totals(self) -> tuple[int, int]:
        self._bucket()
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)

    def rejection_probability(self) -> float:
        requests, accepts = self.totals()
        return max(0.0, (requests - self.k * accepts) / (requests + 1))

    def allow(self) -> bool:
        """Ask before each call. A refused call counts as a request at once: that is what
        keeps the probability up while the backend is still rejecting."""
        if self._rng.random() < self.rejection_probability():
            self._bucket()[1] += 1
            self.refused_locally += 1
            return False
        return True

    def record(self, accepted: bool) -> None:
        """After a sent call, with its outcome: accepted unless the backend said it was
        overloaded (429, 503) or did not answer at all. A sent call is counted here, when it
        ends, not when it starts: counted at the start, the first N concurrent calls of a
        fresh client would be N requests with 0 accepts, and it would refuse the next one."""
        bucket = self._bucket()
        bucket[1] += 1
        bucket[2] += accepted
