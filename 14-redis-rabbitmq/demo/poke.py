"""`python main.py publish ...` and `python main.py consume ...`: poke at the brokers by hand.

Both use the lesson's namespace (MQ_NAMESPACE), so what one terminal publishes another
consumes: `publish created --order 1 --product 2` then `consume billing`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time

import aio_pika
import redis.asyncio as aredis
from aio_pika.abc import AbstractChannel
from aiormq.exceptions import ChannelPreconditionFailed

from messaging import pubsub
from messaging.amqp.publisher import Publisher
from messaging.amqp.topology import OrderTopology
from messaging.events import OrderEvent
from messaging.settings import Settings
from messaging.streams import EventStream


def topology_of(settings: Settings) -> OrderTopology:
    return OrderTopology(settings.namespace, settings.retry_delay_ms, settings.delivery_limit)


async def declared(settings: Settings, channel: AbstractChannel) -> OrderTopology | None:
    """The topology, declared; None (and one line on stderr) when a queue of that name exists
    with other arguments, e.g. after MQ_DELIVERY_LIMIT or MQ_RETRY_DELAY_MS changed."""
    topology = topology_of(settings)
    try:
        await topology.declare(channel)
    except ChannelPreconditionFailed as exc:
        why = str(exc.args[0] if exc.args else exc).split(" in vhost")[0]
        print(f"main.py: RabbitMQ refused the topology ({why}): delete the old queues "
              "(rabbitmqctl delete_queue <name>) or choose another MQ_NAMESPACE",
              file=sys.stderr)  # fmt: skip
        return None
    return topology


async def publish(settings: Settings, event: OrderEvent, via: str) -> int:
    if via == "amqp":
        connection = await aio_pika.connect(settings.rabbitmq_url)
        try:
            topology = await declared(settings, await connection.channel())
            if topology is None:
                return 1
            await (await Publisher.open(connection, topology.exchange)).publish(event)
        finally:
            await connection.close()
        print(f"published {event.routing_key} id={event.id} to {topology.exchange} (confirmed)")
        return 0
    redis = aredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        if via == "stream":
            name = f"{settings.namespace}:orders"
            entry = await EventStream(redis, name, "-", settings.stream_maxlen).add(event.fields())
            print(f"added {event.routing_key} id={event.id} to stream {name} as {entry}")
        else:
            channel = f"{settings.namespace}.{event.routing_key}"
            heard = await pubsub.publish(redis, channel, event.model_dump_json())
            print(f"published {event.routing_key} id={event.id} on {channel}: {heard} heard it")
    finally:
        await redis.aclose()
    return 0


async def consume(settings: Settings, consumer: str, via: str, count: int, wait: float) -> int:
    """Print up to `count` events, for at most `wait` seconds in all; ack each one."""
    deadline = time.monotonic() + wait
    got = 0
    if via == "amqp":
        connection = await aio_pika.connect(settings.rabbitmq_url)
        try:
            topology = await declared(settings, await connection.channel())
            if topology is None:
                return 1
            channel = await connection.channel()
            queue = await channel.get_queue(topology.queue(consumer).name)
            while got < count and time.monotonic() < deadline:
                message = await queue.get(fail=False)
                if message is None:
                    await asyncio.sleep(0.05)
                    continue
                print(f"{consumer} <- {message.routing_key}: {message.body.decode()}")
                await message.ack()
                got += 1
        finally:
            await connection.close()
    else:
        redis = aredis.Redis.from_url(settings.redis_url, decode_responses=True)
        try:
            got = await _from_redis(redis, settings, consumer, via, count, deadline)
        finally:
            await redis.aclose()
    print(f"{got} event(s) consumed")
    return 0


async def _from_redis(
    redis: aredis.Redis, settings: Settings, consumer: str, via: str, count: int, deadline: float
) -> int:
    if via == "pubsub":
        pattern = f"{settings.namespace}.order.*"
        async with pubsub.subscription(redis, patterns=(pattern,)) as listener:
            print(f"listening on {pattern} (only what is published from now on)", flush=True)
            heard = await pubsub.receive(listener, count, within=deadline - time.monotonic())
        for channel, data in heard:
            print(f"{consumer} <- {channel}: {data}")
        return len(heard)
    stream = EventStream(redis, f"{settings.namespace}:orders", consumer, settings.stream_maxlen)
    await stream.ensure_group()  # the group is the consumer's name, reading from the start
    me, got = f"{socket.gethostname()}-{os.getpid()}", 0
    while got < count and (left := deadline - time.monotonic()) > 0:
        entries = await stream.read(me, count - got, block_ms=max(1, int(min(left, 1) * 1000)))
        for entry_id, fields in entries:
            print(f"{consumer} <- {entry_id}: {fields.get('event')}")
            await stream.ack(entry_id)
            got += 1
    return got


async def clean(settings: Settings) -> int:
    """Delete what publish and consume created under the namespace: queues, exchanges, stream."""
    connection = await aio_pika.connect(settings.rabbitmq_url)
    try:
        topology = topology_of(settings)
        await topology.delete(await connection.channel())
    finally:
        await connection.close()
    redis = aredis.Redis.from_url(settings.redis_url)
    try:
        await redis.delete(f"{settings.namespace}:orders")
    finally:
        await redis.aclose()
    names = len(topology.names())
    print(f"deleted {names} queues and exchanges and the stream under {settings.namespace!r}")
    return 0
