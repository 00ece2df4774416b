"""The connection pool: what it keeps, what it hands out, and what it does when it runs dry."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool, QueuePool

from shop.db import make_engine


def make_pooled_engine(
    url: str | URL,
    *,
    size: int = 5,
    overflow: int = 5,
    timeout: float = 30.0,
    pre_ping: bool = True,
) -> Engine:
    """A QueuePool engine, explicit about every knob.

    size      connections kept open between requests
    overflow  extra connections opened under load, closed again when returned
    timeout   seconds a checkout waits for a free connection before TimeoutError
    pre_ping  test each connection on checkout (a cheap ping) and replace it if the server
              dropped it (restart, failover, idle timeout) instead of failing the request
    """
    return make_engine(
        url,
        poolclass=QueuePool,
        pool_size=size,
        max_overflow=overflow,
        pool_timeout=timeout,
        pool_pre_ping=pre_ping,
    )


def make_unpooled_engine(url: str | URL) -> Engine:
    """NullPool: open a new connection for every checkout and close it on return."""
    return make_engine(url, poolclass=NullPool)


@dataclass
class PoolEvents:
    """Counts of pool events on one engine: watch the pool do its job."""

    counts: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, name: str) -> int:
        return self.counts[name]


def watch_pool(engine: Engine) -> PoolEvents:
    """Count connect and close (a DBAPI connection opened or closed), checkout and checkin
    (lent to and returned by a caller) and invalidate (thrown away after an error)."""
    events = PoolEvents()

    def counter(name: str) -> Any:
        def _count(*_args: Any) -> None:
            events.counts[name] += 1

        return _count

    for name in ("connect", "checkout", "checkin", "close", "invalidate"):
        event.listen(engine.pool, name, counter(name))
    return events
