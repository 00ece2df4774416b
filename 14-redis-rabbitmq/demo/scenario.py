"""`python main.py demo`: the order-events scenario, narrated.

1. a cache in front of the product table: hits, misses, a stampede, an update;
2. order events through a topic exchange to three consumers, one of which fails on an order
   for a product that does not exist: retried after a delay, then parked;
3. the same events through a Redis stream, with a consumer killed before acking and its
   entries reclaimed by another;
4. and through Redis pub/sub, where what nobody heard is gone.

Everything is created under a fresh namespace and deleted at the end.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import aio_pika
import redis.asyncio as aredis
from aio_pika.abc import AbstractConnection

from demo.narrate import EVENTS, say, until
from demo.redis_parts import pubsub_part, stream_part
from messaging.amqp.consumer import Outcome, RetryingConsumer, attempt_of, last_death
from messaging.amqp.publisher import Publisher, Unroutable
from messaging.amqp.topology import OrderTopology
from messaging.cache import ProductCache
from messaging.events import OrderEvent
from messaging.idempotency import Ledger
from messaging.productdb import ProductDB
from messaging.settings import Settings


async def run_demo(settings: Settings, versions: tuple[str, str]) -> int:
    ns = f"{settings.namespace}-demo-{secrets.token_hex(3)}"
    redis = aredis.Redis.from_url(settings.redis_url, decode_responses=True)
    connection = await aio_pika.connect(settings.rabbitmq_url)
    db = ProductDB(settings.sqlite_path, delay=settings.db_delay_ms / 1000)
    db.seed(20)
    topology = OrderTopology(ns, settings.retry_delay_ms, settings.delivery_limit)
    say(f"Redis {versions[0]}, RabbitMQ {versions[1]}; everything below lives under {ns!r}")
    try:
        cache = await cache_part(settings, redis, db, ns)
        ok = await amqp_part(settings, connection, redis, cache, topology, ns)
        ok = await stream_part(settings, redis, ns) and ok
        ok = await pubsub_part(redis, ns) and ok
    finally:
        channel = await connection.channel()
        await topology.delete(channel)
        await connection.close()
        keys = [key async for key in redis.scan_iter(match=f"{ns}*", count=500)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        db.close()
    say("\ndemo finished" if ok else "\ndemo finished with a missing outcome (see above)")
    return 0 if ok else 1


async def cache_part(
    settings: Settings, redis: aredis.Redis, db: ProductDB, ns: str
) -> ProductCache:
    say(f"\n== 1. a Redis cache in front of the product table, {settings.db_delay_ms:g} ms a query")
    options = {
        "namespace": ns,
        "ttl_s": settings.cache_ttl_s,
        "negative_ttl_s": settings.negative_ttl_s,
        "lock_ttl_ms": settings.lock_ttl_ms,
    }
    cache = ProductCache(redis, db, **options)  # type: ignore[arg-type]
    for product_id in (1, 2, 3, 1, 2, 3, 1, 2, 3, 99, 99, 99):
        await cache.get(product_id)
    s = cache.stats
    say(f"  12 lookups (products 1-3 three times, missing 99 three times): {s.hits} hits, "
        f"{s.misses} misses, hit ratio {s.hit_ratio:.0%}, {db.calls} database calls")  # fmt: skip
    say("  (99 is cached as 'no such product' for a shorter time: negative caching)")

    # Open 100 connections first, so the 100 callers below really arrive together.
    await asyncio.gather(*(redis.ping() for _ in range(100)))
    for single_flight, product_id in ((False, 5), (True, 6)):
        before = db.calls
        stampede = ProductCache(redis, db, **options, single_flight=single_flight)  # type: ignore[arg-type]
        await asyncio.gather(*(stampede.get(product_id) for _ in range(100)))
        label = "with" if single_flight else "without"
        say(f"  100 concurrent misses on product {product_id} {label} single-flight: "
            f"{db.calls - before} database call(s)")  # fmt: skip

    await cache.get(2)
    updated = await cache.set_price(2, 250, write_through=False)
    fresh = await cache.get(2)
    assert updated is not None and fresh is not None
    say(f"  product 2 repriced to 250 cents (invalidate-on-write): the next lookup sees "
        f"{fresh.price_cents} cents, version {fresh.version}, read from the database")  # fmt: skip
    await cache.set_price(3, 350, write_through=True)
    before = db.calls
    stored = await cache.get(3)
    assert stored is not None
    say(f"  product 3 repriced to 350 cents (write-through): the next lookup sees "
        f"{stored.price_cents} cents with {db.calls - before} database reads")  # fmt: skip
    return cache


async def amqp_part(
    settings: Settings,
    connection: AbstractConnection,
    redis: aredis.Redis,
    cache: ProductCache,
    topology: OrderTopology,
    ns: str,
) -> bool:
    say("\n== 2. order events through RabbitMQ (topic exchange, quorum queues)")
    channel = await connection.channel()
    await topology.declare(channel)
    for name, keys in topology.consumers.items():
        say(f"  {topology.queue(name).name} <- {', '.join(keys)}")
    ledgers = {name: Ledger(redis, ns, name, settings.dedupe_ttl_s) for name in topology.consumers}

    async def billing(event: OrderEvent) -> None:
        product = await cache.get(event.product_id)
        if product is None:
            say(f"  billing   order {event.order_id}: no product {event.product_id} -> fails")
            raise LookupError(f"no product {event.product_id}")
        total = product.price_cents * event.quantity
        if await ledgers["billing"].record_once(event.id, f"order {event.order_id}: {total}"):
            say(f"  billing   order {event.order_id}: {event.quantity} x {product.name} "
                f"= {total} cents")  # fmt: skip

    def recorder(name: str) -> Callable[[OrderEvent], Awaitable[None]]:
        async def handle(event: OrderEvent) -> None:
            if await ledgers[name].record_once(event.id, f"{event.kind} {event.order_id}"):
                say(f"  {name:<9} order {event.order_id} {event.kind}")

        return handle

    handlers = {"billing": billing, "shipping": recorder("shipping"), "audit": recorder("audit")}
    consumers, channels = {}, []
    for name, handler in handlers.items():
        consumer_channel = await connection.channel()
        channels.append(consumer_channel)
        await consumer_channel.set_qos(prefetch_count=settings.prefetch)
        wq = topology.queue(name)
        consumers[name] = RetryingConsumer(consumer_channel, wq, handler, settings.max_attempts)
        await (await consumer_channel.get_queue(wq.name)).consume(consumers[name])

    try:
        return await _publish_and_watch(settings, connection, topology, consumers, ledgers)
    finally:
        for consumer_channel in channels:  # stop consuming before the queues are deleted
            await consumer_channel.close()


async def _publish_and_watch(
    settings: Settings,
    connection: AbstractConnection,
    topology: OrderTopology,
    consumers: dict[str, RetryingConsumer],
    ledgers: dict[str, Ledger],
) -> bool:
    say(f"  publishing {len(EVENTS)} events, each publish waiting for the broker's confirm:")
    publisher = await Publisher.open(connection, topology.exchange)
    for event in EVENTS:
        await publisher.publish(event)
    try:
        await publisher.publish(EVENTS[0], routing_key="invoice.created")
    except Unroutable as exc:
        say(f"  published one more with routing key invoice.created: returned, {exc}")

    wanted = {"billing": {Outcome.DONE: 2, Outcome.PARKED: 1},
              "shipping": {Outcome.DONE: 2}, "audit": {Outcome.DONE: 6}}  # fmt: skip
    budget = 10 + settings.max_attempts * settings.retry_delay_ms / 1000
    done = await until(lambda: all(consumers[n].outcomes[o] >= c for n, w in wanted.items()
                                   for o, c in w.items()), within=budget)  # fmt: skip
    channel = await connection.channel()
    parking = await channel.get_queue(topology.queue("billing").parking)
    parked = await parking.get(fail=False) if done else None
    if parked is None:
        say("  the poison order never reached the parking queue")
        return False
    queue, reason = last_death(parked) or ("?", "?")
    say(f"  parked: order 3 after {attempt_of(parked)} attempts "
        f"({consumers['billing'].outcomes[Outcome.RETRIED]} retries {settings.retry_delay_ms} ms "
        f"apart), x-death: {reason} by {queue}")  # fmt: skip
    await parked.ack()
    for name in consumers:
        say(f"  {name} ledger: {len(await ledgers[name].entries())} entries")
    return True
