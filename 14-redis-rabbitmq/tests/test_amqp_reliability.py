"""RabbitMQ reliability: an unacked message survives its consumer (killed or cut off) and is
processed once in effect; prefetch bounds what a consumer holds; failures are retried with a
delay and then parked with their x-death history; a poison message is capped by the quorum
queue's delivery limit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aio_pika
import pytest
from aio_pika import Message
from amqp_helpers import get_one, until

from messaging.amqp.consumer import Outcome, PermanentError, RetryingConsumer, last_death
from messaging.amqp.publisher import Publisher
from messaging.events import OrderEvent
from messaging.idempotency import Ledger

pytestmark = [pytest.mark.rabbitmq, pytest.mark.redis]

LESSON = Path(__file__).resolve().parents[1]


def order(order_id: int = 1) -> OrderEvent:
    return OrderEvent(kind="created", order_id=order_id, product_id=1)


async def test_a_consumer_killed_after_its_effect_but_before_its_ack_is_harmless(
    amqp, topology, r, redis_url, rabbitmq_url, namespace
) -> None:
    # Given a consumer process that applied the effect of an order and hangs before acking
    billing = topology.queue("billing").name
    await (await Publisher.open(amqp, topology.exchange)).publish(sent := order(7))
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "tests/crashing_worker.py", rabbitmq_url, redis_url, namespace, billing,
        cwd=LESSON, env={**os.environ, "PYTHONPATH": str(LESSON)},
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), 30)
        assert line.decode().strip() == f"applied=True id={sent.id}"
    finally:
        # When it is killed (no chance to ack or to close its connection politely)
        worker.send_signal(signal.SIGKILL)
        await worker.wait()

    # Then RabbitMQ delivers the order again, flagged as a redelivery, to another consumer
    channel = await amqp.channel()
    message = await get_one(await channel.get_queue(billing), within=15)
    assert message.redelivered and message.message_id == sent.id
    # And the idempotent ledger turns the second run into a no-op
    ledger = Ledger(r, namespace, "billing", ttl_s=3_600)
    assert await ledger.record_once(sent.id, "charged order 7") is False
    await message.ack()
    assert await ledger.entries() == ["charged order 7"]


async def test_a_connection_cut_before_the_ack_hands_the_message_to_another_consumer(
    amqp, topology, rabbitmq_url
) -> None:
    billing = topology.queue("billing").name
    await (await Publisher.open(amqp, topology.exchange)).publish(sent := order(8))
    doomed_connection = await aio_pika.connect(rabbitmq_url)
    first = await get_one(await (await doomed_connection.channel()).get_queue(billing))
    assert not first.redelivered

    await doomed_connection.close()  # the consumer goes away holding it, unacked

    second = await get_one(await (await amqp.channel()).get_queue(billing))
    assert second.redelivered and second.message_id == sent.id
    await second.ack()


async def test_prefetch_bounds_the_unacked_messages_a_consumer_holds(amqp, topology) -> None:
    channel = await amqp.channel()
    await channel.set_qos(prefetch_count=3)
    billing = await channel.get_queue(topology.queue("billing").name)
    publisher = await Publisher.open(amqp, topology.exchange)
    for n in range(10):
        await publisher.publish(order(n + 1))
    held: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def hold(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        held.append(message)  # no ack yet

    await billing.consume(hold)

    async def ready_count() -> int:
        probe = await amqp.channel()
        declared = await probe.declare_queue(billing.name, passive=True)
        await probe.close()
        return int(declared.declaration_result.message_count or 0)

    async def seven_left() -> bool:
        return len(held) == 3 and await ready_count() == 7

    await until(seven_left)  # 3 in the consumer's hands, 7 still in the queue
    await held[0].ack()

    async def one_more() -> bool:
        return len(held) == 4 and await ready_count() == 6

    await until(one_more)  # one ack, one more delivery: never more than 3 unacked


async def test_a_failing_message_is_retried_then_parked_with_its_x_death(amqp, topology) -> None:
    attempts: list[str] = []

    async def always_fails(event: OrderEvent) -> None:
        attempts.append(event.id)
        raise RuntimeError("payment provider unavailable")

    channel = await amqp.channel()
    wq = topology.queue("billing")
    consumer = RetryingConsumer(channel, wq, always_fails, max_attempts=3)
    await (await channel.get_queue(wq.name)).consume(consumer)
    await (await Publisher.open(amqp, topology.exchange)).publish(sent := order(9))

    parked = await get_one(await channel.get_queue(wq.parking), within=15)
    await parked.ack()

    assert attempts == [sent.id] * 3
    assert consumer.outcomes == {Outcome.RETRIED: 2, Outcome.PARKED: 1}
    headers = parked.headers
    assert headers["x-attempt"] == 3
    assert "RuntimeError: payment provider unavailable" in str(headers["x-last-error"])
    history: list[dict[str, object]] = headers["x-death"]  # type: ignore[assignment]
    deaths = {(d["queue"], d["reason"]) for d in history}
    assert (wq.name, "rejected") in deaths  # the final reject, by the work queue
    assert (wq.retry, "expired") in deaths  # the delay it waited out in the retry queue


async def test_a_retry_with_no_retry_queue_parks_the_message_instead_of_losing_it(
    amqp, topology
) -> None:
    # Given a work queue whose retry queue is gone (deleted by hand, renamed in a deploy)
    async def fails(event: OrderEvent) -> None:
        raise RuntimeError("payment provider unavailable")

    channel = await amqp.channel()
    wq = topology.queue("billing")
    await channel.queue_delete(wq.retry)
    consumer = RetryingConsumer(channel, wq, fails, max_attempts=3)
    await (await channel.get_queue(wq.name)).consume(consumer)

    # When a message fails and the consumer tries to schedule its retry
    await (await Publisher.open(amqp, topology.exchange)).publish(sent := order(11))

    # Then the broker returns the copy, and the original goes to the parking queue, not nowhere
    parked = await get_one(await channel.get_queue(wq.parking), within=15)
    await parked.ack()
    assert parked.message_id == sent.id
    assert consumer.outcomes == {Outcome.PARKED: 1}


async def test_bad_data_is_parked_at_once(amqp, topology) -> None:
    calls: list[OrderEvent] = []

    async def unknown_product(event: OrderEvent) -> None:
        calls.append(event)
        raise PermanentError(f"no product {event.product_id}")

    channel = await amqp.channel()
    wq = topology.queue("billing")
    consumer = RetryingConsumer(channel, wq, unknown_product, max_attempts=3)
    await (await channel.get_queue(wq.name)).consume(consumer)
    await channel.default_exchange.publish(Message(b"{not json", message_id="junk"), wq.name)
    await (await Publisher.open(amqp, topology.exchange)).publish(order(10))

    parking = await channel.get_queue(wq.parking)
    first, second = await get_one(parking), await get_one(parking)

    assert {first.message_id, second.message_id} >= {"junk"}
    assert len(calls) == 1  # the junk never reached the handler; the order was tried once
    assert consumer.outcomes == {Outcome.PARKED: 2}


async def test_a_poison_message_is_dead_lettered_after_the_delivery_limit(
    amqp, topology, rabbitmq_url
) -> None:
    # A consumer that dies on the message every time never acks or rejects it
    wq = topology.queue("billing")
    await (await Publisher.open(amqp, topology.exchange)).publish(sent := order(11))
    deliveries = 0
    channel = await amqp.channel()
    parking = await channel.get_queue(wq.parking)
    deadline = time.monotonic() + 15
    while (parked := await parking.get(fail=False)) is None:
        assert time.monotonic() < deadline, "never dead-lettered"
        crashing = await aio_pika.connect(rabbitmq_url)
        queue = await (await crashing.channel()).get_queue(wq.name)
        if await queue.get(fail=False) is not None:
            deliveries += 1
        await crashing.close()  # dies holding it
        assert deliveries <= topology.delivery_limit + 1, "the delivery limit did not hold"

    # Delivered once plus `delivery_limit` more times, then dead-lettered to parking
    assert deliveries == topology.delivery_limit + 1
    assert parked.message_id == sent.id
    assert last_death(parked) == (wq.name, "delivery_limit")
    await parked.ack()
