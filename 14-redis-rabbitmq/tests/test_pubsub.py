"""Redis pub/sub: fan-out to whoever listens now, pattern subscriptions, order per channel,
and the loss: a message published while nobody listens is gone, where a stream keeps it."""

from __future__ import annotations

import pytest
import redis.asyncio as aredis

from messaging.pubsub import publish, receive, subscription
from messaging.streams import EventStream

pytestmark = pytest.mark.redis


async def test_every_current_subscriber_gets_a_copy_in_order(r, namespace) -> None:
    channel = f"{namespace}.orders.created"
    async with (
        subscription(r, channels=(channel,)) as one,
        subscription(r, channels=(channel,)) as two,
    ):
        receivers = [await publish(r, channel, f"order {n}") for n in range(3)]

        expected = [(channel, f"order {n}") for n in range(3)]
        assert await receive(one, 3, within=5) == expected
        assert await receive(two, 3, within=5) == expected
    assert receivers == [2, 2, 2]  # PUBLISH says how many heard it


async def test_a_pattern_subscription_hears_every_matching_channel(r, namespace) -> None:
    async with subscription(r, patterns=(f"{namespace}.orders.*",)) as listener:
        await publish(r, f"{namespace}.orders.created", "a")
        await publish(r, f"{namespace}.orders.paid", "b")
        await publish(r, f"{namespace}.payments.failed", "c")  # does not match

        got = await receive(listener, 3, within=0.3)  # wait long enough for a stray third
    assert got == [(f"{namespace}.orders.created", "a"), (f"{namespace}.orders.paid", "b")]


async def test_pubsub_drops_what_nobody_heard_while_a_stream_keeps_it(r, namespace) -> None:
    # Given an event published on both while the consumer is away
    channel = f"{namespace}.orders"
    stream = EventStream(r, f"{namespace}:orders", "billing", maxlen=1_000)
    await stream.ensure_group()
    heard_by = await publish(r, channel, "order 1")
    entry_id = await stream.add({"order": "1"})

    # When the consumer comes back and listens on both
    async with subscription(r, channels=(channel,)) as listener:
        from_pubsub = await receive(listener, 1, within=0.2)
    from_stream = await stream.read("billing-1", count=10)

    # Then pub/sub never delivers it (nobody heard it), the stream does
    assert heard_by == 0 and from_pubsub == []
    assert from_stream == [(entry_id, {"order": "1"})]


async def test_publish_never_waits_for_a_subscriber_that_does_not_read(
    r, redis_url, namespace
) -> None:
    # Given a subscriber (on a client named so we can find it) that subscribes and reads nothing
    channel = f"{namespace}.firehose"
    name = f"{namespace}-stalled"
    named = aredis.Redis.from_url(redis_url, client_name=name)
    payload = "x" * 10_000

    async def buffered() -> int:
        clients = await r.client_list()
        return int(next(c for c in clients if c.get("name") == name)["omem"])

    async with subscription(named, channels=(channel,)):
        # When messages of 10 kB are published, 5 MB at a time, until the kernel's socket
        # buffers are full and Redis has to hold the rest (50 MB at most)
        heard: list[int] = []
        while not await buffered() and len(heard) < 5_000:
            heard += [await publish(r, channel, payload) for _ in range(500)]

        # Then every PUBLISH returned at once, delivered to the one subscriber (no
        # back-pressure), and what it has not read piles up in Redis' output buffer for its
        # connection: that buffer, not the publisher, is what
        # `client-output-buffer-limit pubsub` cuts off.
        assert set(heard) == {1}
        assert await buffered() > 0
    await named.aclose()
