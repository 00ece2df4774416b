"""Redis Streams with a consumer group: a durable log that consumers acknowledge.

XADD appends an entry with an id (time-sequence, so entries are ordered). A consumer group
hands every entry to one consumer of the group (XREADGROUP `>`), and the entry stays in the
group's pending entries list (PEL) under that consumer's name until it sends XACK. A consumer
that dies keeps its entries pending: XPENDING shows them with their idle time and delivery
count, and XAUTOCLAIM moves the ones idle longer than a threshold to a live consumer.
Entries stay in the stream after XACK (another group, or a replay from an id, can read them)
until trimming removes the oldest: MAXLEN ~ N keeps about N, trimming whole radix-tree nodes,
which is much cheaper than an exact cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError

Entry = tuple[str, dict[str, str]]


@dataclass(frozen=True)
class Pending:
    id: str
    consumer: str
    idle_ms: int
    deliveries: int


class EventStream:
    def __init__(self, redis: Redis, name: str, group: str, maxlen: int) -> None:
        self.redis, self.name, self.group, self.maxlen = redis, name, group, maxlen

    async def ensure_group(self, start: str = "0") -> None:
        """Create the group (and the stream) once; `0` reads the history, `$` only new ones."""
        try:
            await self.redis.xgroup_create(self.name, self.group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):  # already there: fine, that is what we want
                raise

    async def add(self, fields: dict[str, str]) -> str:
        # approximate=True is `MAXLEN ~`: the stream may keep a little more than maxlen.
        entry = await self.redis.xadd(self.name, dict(fields), maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
        return str(entry)

    async def read(self, consumer: str, count: int, block_ms: int | None = None) -> list[Entry]:
        """New entries for this consumer; they are pending on it until acked."""
        reply = await self.redis.xreadgroup(
            self.group, consumer, {self.name: ">"}, count=count, block=block_ms
        )
        return _entries(reply)

    async def ack(self, *ids: str) -> int:
        return int(await self.redis.xack(self.name, self.group, *ids)) if ids else 0

    async def pending(self, count: int = 100) -> list[Pending]:
        rows = await self.redis.xpending_range(self.name, self.group, "-", "+", count)
        return [
            Pending(
                str(row["message_id"]),
                str(row["consumer"]),
                int(row["time_since_delivered"]),
                int(row["times_delivered"]),
            )
            for row in rows
        ]

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int = 100) -> list[Entry]:
        """Take over entries pending longer than min_idle_ms on any consumer (a dead one)."""
        claimed: list[Entry] = []
        start = "0-0"
        while True:
            reply = await self.redis.xautoclaim(
                self.name, self.group, consumer, min_idle_ms, start_id=start, count=count
            )
            start, entries = str(reply[0]), reply[1]
            # An entry trimmed away while pending comes back as None: nothing left to process.
            claimed += [(str(i), dict(f)) for i, f in entries if f is not None]
            if start == "0-0" or len(claimed) >= count:
                return claimed

    async def length(self) -> int:
        return int(await self.redis.xlen(self.name))

    async def range(self, start: str = "-", end: str = "+") -> list[Entry]:
        """Read the log directly, acked or not: a replay."""
        entries = await self.redis.xrange(self.name, start, end)
        return [(str(i), dict(f)) for i, f in entries]  # type: ignore[arg-type,union-attr]


def _entries(reply: object) -> list[Entry]:
    # RESP3 answers {stream: [entries]}, RESP2 [[stream, [entries]]]; one stream was asked.
    if not reply:
        return []
    if isinstance(reply, dict):
        groups = list(reply.values())
    else:
        groups = [entries for _stream, entries in reply]  # type: ignore[attr-defined]
    return [(str(i), dict(f)) for entries in groups for i, f in entries]
