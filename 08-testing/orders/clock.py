"""Time as a dependency.

The service asks a ``Clock`` for "now" instead of calling ``datetime.now()`` itself. Unit tests
hand it a fixed clock; tests that exercise the real ``SystemClock`` (or code you cannot change)
freeze or move time with time-machine instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        # Always aware and in UTC: comparing naive and aware datetimes raises, and local time
        # makes "expires at midnight" depend on where the server happens to run.
        return datetime.now(UTC)
