"""bench.py's broker measurements: confirms, prefetch, and Streams vs RabbitMQ."""

from __future__ import annotations

import asyncio
import time

import aio_pika
import redis.asyncio as aredis
from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractConnection

from messaging.amqp.topology import quorum
from messaging.streams import EventStream

BODY = b'{"id":"0123456789abcdef","kind":"created","order_id":1,"product_id":1,"quantity":1}'


def message() -> Message:
    return Message(BODY, delivery_mode=DeliveryMode.PERSISTENT)


async def fresh_queue(connection: AbstractConnection, name: str) -> None:
    channel = await connection.channel()
    await channel.queue_delete(name)
    await channel.declare_queue(name, durable=True, arguments=quorum())
    await channel.close()


async def publish(connection: AbstractConnection, queue: str, n: int, mode: str) -> float:
    """Seconds to publish n persistent messages to a quorum queue, then purge it.
    mode: "none" (no confirms), "each" (wait for every confirm), "window" (100 in flight)."""
    await fresh_queue(connection, queue)
    channel = await connection.channel(publisher_confirms=mode != "none")
    exchange = channel.default_exchange
    start = time.perf_counter()
    if mode == "window":
        for first in range(0, n, 100):
            batch = range(first, min(n, first + 100))
            await asyncio.gather(*(exchange.publish(message(), queue) for _ in batch))
    else:
        for _ in range(n):
            await exchange.publish(message(), queue)
    if mode == "none":
        # Without confirms "published" only means "written to the socket": wait until the
        # broker really has them all, or the comparison flatters the unconfirmed side.
        await _until_ready(channel, queue, n)
    seconds = time.perf_counter() - start
    await channel.close()
    return seconds


async def _until_ready(channel: aio_pika.abc.AbstractChannel, queue: str, n: int) -> None:
    while True:
        declared = await channel.declare_queue(queue, passive=True)
        if (declared.declaration_result.message_count or 0) >= n:
            return
        await asyncio.sleep(0.005)


async def consume(connection: AbstractConnection, queue: str, n: int, prefetch: int) -> float:
    """Seconds for one consumer with this prefetch to receive and ack n waiting messages."""
    await publish(connection, queue, n, "window")
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=prefetch)
    done = asyncio.Event()
    count = 0

    async def handle(incoming: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal count
        await incoming.ack()
        count += 1
        if count == n:
            done.set()

    q = await channel.get_queue(queue)
    start = time.perf_counter()
    tag = await q.consume(handle)
    await done.wait()
    seconds = time.perf_counter() - start
    await q.cancel(tag)
    await channel.close()
    return seconds


async def rabbit_end_to_end(connection: AbstractConnection, queue: str, n: int) -> float:
    """Seconds from the first publish to the last ack: confirmed publishes (100 in flight),
    one consumer with prefetch 50 acking each message."""
    await fresh_queue(connection, queue)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=50)
    done, count = asyncio.Event(), 0

    async def handle(incoming: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal count
        await incoming.ack()
        count += 1
        if count == n:
            done.set()

    q = await channel.get_queue(queue)
    tag = await q.consume(handle)
    pub = await connection.channel()
    start = time.perf_counter()
    for first in range(0, n, 100):
        batch = range(first, min(n, first + 100))
        await asyncio.gather(*(pub.default_exchange.publish(message(), queue) for _ in batch))
    await done.wait()
    seconds = time.perf_counter() - start
    await q.cancel(tag)
    await channel.close()
    await pub.close()
    return seconds


async def stream_end_to_end(r: aredis.Redis, r2: aredis.Redis, name: str, n: int) -> float:
    """The same for a Redis stream: XADDs pipelined 100 at a time; one consumer reading
    COUNT 50 and acking each batch with one XACK."""
    await r.delete(name)
    stream = EventStream(r2, name, "bench", maxlen=max(n, 1000))
    await stream.ensure_group()

    async def consumer() -> None:
        got = 0
        while got < n:
            entries = await stream.read("c", 50, block_ms=1000)
            await stream.ack(*[i for i, _ in entries])
            got += len(entries)

    start = time.perf_counter()
    task = asyncio.create_task(consumer())
    for first in range(0, n, 100):
        async with r.pipeline(transaction=False) as pipe:
            for _ in range(first, min(n, first + 100)):
                pipe.xadd(name, {"event": BODY}, maxlen=max(n, 1000), approximate=True)
            await pipe.execute()
    await task
    return time.perf_counter() - start
