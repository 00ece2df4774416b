"""A consumer in a process of its own, for a test to SIGKILL: it applies the effect of one
message through the idempotent ledger, says so on stdout, and then hangs before its ack.

    python tests/crashing_worker.py AMQP_URL REDIS_URL NAMESPACE QUEUE
"""

from __future__ import annotations

import asyncio
import sys

import aio_pika
import redis.asyncio as aredis

from messaging.events import OrderEvent
from messaging.idempotency import Ledger


async def main(amqp_url: str, redis_url: str, namespace: str, queue_name: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=1)
    redis = aredis.Redis.from_url(redis_url, decode_responses=True)
    ledger = Ledger(redis, namespace, "billing", ttl_s=3_600)
    queue = await channel.get_queue(queue_name)
    async with queue.iterator() as messages:
        async for message in messages:
            event = OrderEvent.model_validate_json(message.body)
            applied = await ledger.record_once(event.id, f"charged order {event.order_id}")
            print(f"applied={applied} id={event.id}", flush=True)
            await asyncio.Event().wait()  # the ack never comes: the test kills us here


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
