"""Parts 3 and 4 of the demo: the same events through a Redis stream and Redis pub/sub."""

from __future__ import annotations

from collections import Counter

import redis.asyncio as aredis

from demo.narrate import EVENTS, say, until
from messaging import pubsub
from messaging.events import OrderEvent
from messaging.idempotency import Ledger
from messaging.settings import Settings
from messaging.streams import EventStream


async def stream_part(settings: Settings, redis: aredis.Redis, ns: str) -> bool:
    say("\n== 3. the same events through a Redis stream (consumer group 'billing')")
    stream = EventStream(redis, f"{ns}:orders", "billing", maxlen=settings.stream_maxlen)
    await stream.ensure_group()
    for event in EVENTS:
        await stream.add(event.fields())
    ledger = Ledger(redis, ns, "stream-billing", settings.dedupe_ttl_s)

    # Consumer A has a connection of its own, so "killing" it really drops that connection.
    a_conn = aredis.Redis.from_url(settings.redis_url, decode_responses=True)
    taken = await EventStream(a_conn, stream.name, stream.group, stream.maxlen).read("A", 3)
    await a_conn.aclose()
    say(f"  consumer A read {len(taken)} entries and died before acking")
    pending = await stream.pending()
    say(f"  XPENDING: {len(pending)} pending, on {sorted({p.consumer for p in pending})}")

    async def process(entries: list[tuple[str, dict[str, str]]]) -> None:
        for entry_id, fields in entries:
            event = OrderEvent.from_fields(fields)
            await ledger.record_once(event.id, f"{event.kind} {event.order_id}")
            await stream.ack(entry_id)

    rest = await stream.read("B", 10)
    await process(rest)
    say(f"  consumer B read and acked the {len(rest)} newer entries")
    idle_ms = 50
    await until(lambda: _all_idle(stream, idle_ms), within=5)
    claimed = await stream.reclaim("B", min_idle_ms=idle_ms)
    await process(claimed)
    say(f"  consumer B: XAUTOCLAIM took {len(claimed)} entries idle over {idle_ms} ms; acked")
    left, entries = await stream.pending(), len(await ledger.entries())
    say(f"  pending now {len(left)}; ledger has {entries} entries for {len(EVENTS)} events; "
        f"the stream still holds {await stream.length()} (replayable until trimmed)")  # fmt: skip
    return not left and entries == len(EVENTS)


async def _all_idle(stream: EventStream, idle_ms: int) -> bool:
    return all(p.idle_ms >= idle_ms for p in await stream.pending())


async def pubsub_part(redis: aredis.Redis, ns: str) -> bool:
    say("\n== 4. the same events on Redis pub/sub")
    first, rest = EVENTS[0], EVENTS[1:]
    heard = await pubsub.publish(redis, f"{ns}.{first.routing_key}", first.model_dump_json())
    say(f"  order {first.order_id} {first.kind} published before anyone subscribed: "
        f"{heard} heard it, and it is gone")  # fmt: skip
    async with pubsub.subscription(redis, patterns=(f"{ns}.order.*",)) as listener:
        for event in rest:
            await pubsub.publish(redis, f"{ns}.{event.routing_key}", event.model_dump_json())
        got = await pubsub.receive(listener, len(rest), within=5)
    kinds = Counter(OrderEvent.model_validate_json(data).kind for _, data in got)
    say(
        f"  a subscriber to the pattern {ns}.order.* heard the other {len(got)}: "
        + ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    )
    say("  nothing was stored: a subscriber that connects now hears none of them")
    return len(got) == len(rest)
