"""A deadline for a whole request, passed from hop to hop in a header.

A timeout set separately on every hop adds up wrong: the client gives up after 1 s, but the
API still waits 2 s for its upstream, which still works 3 s on an answer nobody will read.
With propagation each hop sends the time *left*, minus a margin for its own work, and a hop
that receives a spent deadline does nothing at all.

The header carries milliseconds left, not a point in time: hosts' clocks differ, durations
travel well (gRPC's ``grpc-timeout`` does the same). Each hop turns it back into a point on
its own monotonic clock at once.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HEADER = "X-Deadline-Ms"
MILLISECONDS = re.compile(r"[0-9]{1,12}")


class DeadlineExceeded(Exception):
    """The time for this request is spent: stop working on it."""


@dataclass
class Deadline:
    at: float  # on ``clock``
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def from_header(
        cls,
        value: str | None,
        default_s: float,
        max_s: float,
        clock: Callable[[], float] = time.monotonic,
        arrived: float | None = None,
    ) -> Deadline:
        """The caller's budget, capped at ``max_s``: a caller may shorten our work, not
        extend it. It runs from ``arrived`` (when the request came in, on ``clock``), so
        time spent queued counts. ValueError for anything but whole milliseconds >= 0."""
        start = clock() if arrived is None else arrived
        if value is None:
            return cls(start + default_s, clock)
        text = value.strip()
        if not MILLISECONDS.fullmatch(text):
            raise ValueError(f"{HEADER} must be whole milliseconds >= 0, got {value[:20]!r}")
        return cls(start + min(int(text) / 1000, max_s), clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self) -> None:
        """Call between steps of long work: abandon it once nobody waits for the answer."""
        if self.expired:
            raise DeadlineExceeded("deadline spent")

    def header(self, margin_s: float = 0.0) -> dict[str, str]:
        """What to send the next hop: the time left less ``margin_s`` for our own reply."""
        # Rounded down (never promise the next hop time we do not have), but not below a
        # float's noise: 0.15 - 0.05 is 0.09999999999999999.
        return {HEADER: str(max(0, math.floor((self.remaining() - margin_s) * 1000 + 1e-6)))}
