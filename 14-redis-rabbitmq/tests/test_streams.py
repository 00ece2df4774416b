"""Redis Streams: consumer groups share the work, unacked entries stay pending on a dead
consumer until XAUTOCLAIM hands them to a live one, acked entries can still be replayed, and
MAXLEN ~ keeps the stream near its cap."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aredis

from messaging.streams import EventStream

pytestmark = pytest.mark.redis


@pytest.fixture
async def stream(r, namespace) -> EventStream:
    s = EventStream(r, f"{namespace}:orders", "billing", maxlen=1_000)
    await s.ensure_group()
    return s


async def wait_idle(stream: EventStream, idle_ms: int) -> None:
    """Wait (for a condition, not a fixed time) until every pending entry is idle that long."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pending = await stream.pending()
        if pending and min(p.idle_ms for p in pending) >= idle_ms:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("entries never became idle")


async def test_a_dead_consumers_pending_entry_is_reclaimed_and_acked(stream, redis_url) -> None:
    # Given consumer "a", on a connection of its own, read two entries and died without acking
    ids = [await stream.add({"order": str(n)}) for n in (1, 2)]
    a_conn = aredis.Redis.from_url(redis_url, decode_responses=True)
    a = EventStream(a_conn, stream.name, stream.group, stream.maxlen)
    assert [i for i, _ in await a.read("a", count=10)] == ids
    await a_conn.aclose()  # gone: Redis keeps its entries pending all the same
    pending = await stream.pending()
    assert [(p.id, p.consumer, p.deliveries) for p in pending] == [(i, "a", 1) for i in ids]

    # When "b" reclaims what has been idle for 20 ms
    await wait_idle(stream, 20)
    claimed = await stream.reclaim("b", min_idle_ms=20)

    # Then b owns them (delivered a second time), and acking empties the pending list
    assert [(i, f["order"]) for i, f in claimed] == [(ids[0], "1"), (ids[1], "2")]
    assert {(p.consumer, p.deliveries) for p in await stream.pending()} == {("b", 2)}
    assert await stream.ack(*ids) == 2
    assert await stream.pending() == []


async def test_reclaim_leaves_entries_that_are_not_idle_long_enough(stream) -> None:
    await stream.add({"order": "1"})
    await stream.read("a", count=10)

    assert await stream.reclaim("b", min_idle_ms=60_000) == []
    assert [p.consumer for p in await stream.pending()] == ["a"]


async def test_consumers_of_one_group_split_the_entries(stream) -> None:
    for n in range(6):
        await stream.add({"order": str(n)})

    a = await stream.read("a", count=3)
    b = await stream.read("b", count=10)

    assert len(a) == 3 and len(b) == 3
    assert not {i for i, _ in a} & {i for i, _ in b}  # nobody got an entry twice


async def test_each_group_gets_every_entry_in_order(r, namespace, stream) -> None:
    other = EventStream(r, stream.name, "audit", maxlen=1_000)
    await other.ensure_group()
    ids = [await stream.add({"order": str(n)}) for n in range(5)]

    assert [i for i, _ in await stream.read("x", count=10)] == ids
    assert [i for i, _ in await other.read("y", count=10)] == ids  # fan-out: one copy per group


async def test_acked_entries_stay_in_the_stream_for_replay(r, namespace, stream) -> None:
    ids = [await stream.add({"order": str(n)}) for n in range(3)]
    await stream.ack(*[i for i, _ in await stream.read("a", count=10)])

    assert await stream.read("a", count=10) == []  # nothing new for the group
    assert [i for i, _ in await stream.range()] == ids  # but the log still holds them
    late = EventStream(r, stream.name, "late-joiner", maxlen=1_000)
    await late.ensure_group(start="0")  # a new group can start from the beginning
    assert [i for i, _ in await late.read("z", count=10)] == ids


async def test_maxlen_trims_to_about_the_cap(r, namespace) -> None:
    capped = EventStream(r, f"{namespace}:capped", "g", maxlen=100)
    for n in range(1_000):
        await capped.add({"n": str(n)})

    length = await capped.length()
    # `~` trims whole nodes (100 entries each by default): at least 100 kept, a node more at most
    assert 100 <= length <= 200
    first = (await capped.range())[0][1]["n"]
    assert int(first) >= 800  # what was trimmed is gone: the oldest entries


async def test_maxlen_trims_entries_the_group_never_read(r, namespace) -> None:
    # A stream has no back-pressure on producers: a consumer that falls behind loses the
    # oldest entries to trimming, read or not.
    capped = EventStream(r, f"{namespace}:behind", "slow", maxlen=100)
    await capped.ensure_group()
    for n in range(1_000):
        await capped.add({"n": str(n)})

    first_read = (await capped.read("c", count=1))[0][1]["n"]

    assert int(first_read) >= 800  # entries 0..~799 were never delivered to the group
