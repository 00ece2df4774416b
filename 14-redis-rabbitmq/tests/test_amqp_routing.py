"""RabbitMQ routing: topic, direct, fanout and headers exchanges; mandatory publishes that
no queue takes; quorum queues with persistent messages; FIFO per queue; no replay."""

from __future__ import annotations

import aio_pika
import pytest
from aio_pika import ExchangeType, Message
from aiormq.exceptions import ChannelPreconditionFailed
from amqp_helpers import drain, get_one

from messaging.amqp.publisher import Publisher, Unroutable
from messaging.amqp.topology import quorum
from messaging.events import OrderEvent

pytestmark = pytest.mark.rabbitmq


def event(kind: str, order_id: int = 1) -> OrderEvent:
    return OrderEvent(kind=kind, order_id=order_id, product_id=1)  # type: ignore[arg-type]


async def test_topic_bindings_route_each_event_to_its_consumers(amqp, topology) -> None:
    publisher = await Publisher.open(amqp, topology.exchange)
    for kind in ("created", "paid", "shipped"):
        await publisher.publish(event(kind))

    channel = await amqp.channel()
    got = {}
    for consumer in ("billing", "shipping", "audit"):
        queue = await channel.get_queue(topology.queue(consumer).name)
        got[consumer] = [OrderEvent.model_validate_json(m.body).kind for m in await drain(queue)]

    assert got == {
        "billing": ["created"],  # order.created
        "shipping": ["paid"],  # order.paid
        "audit": ["created", "paid", "shipped"],  # order.#
    }


@pytest.mark.parametrize(
    ("kind", "bindings", "publish", "expected"),
    [
        # direct: the routing key must equal the binding key
        (ExchangeType.DIRECT, {"a": "eu", "b": "us"}, {"routing_key": "eu"}, {"a"}),
        # fanout: every bound queue, whatever the key
        (ExchangeType.FANOUT, {"a": "", "b": ""}, {"routing_key": "ignored"}, {"a", "b"}),
    ],
)
async def test_direct_and_fanout_exchanges(
    amqp, doomed, namespace, kind, bindings, publish, expected
) -> None:
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        doomed.exchange(f"{namespace}.{kind.value}"), kind, durable=True
    )
    queues = {}
    for name, key in bindings.items():
        queue = await channel.declare_queue(doomed.queue(f"{namespace}.{name}"), exclusive=True)
        await queue.bind(exchange, routing_key=key)
        queues[name] = queue

    await exchange.publish(Message(b"hello"), **publish)

    assert {name for name, q in queues.items() if await drain(q)} == expected


async def test_a_headers_exchange_matches_on_headers_all_or_any(amqp, doomed, namespace) -> None:
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        doomed.exchange(f"{namespace}.headers"), ExchangeType.HEADERS, durable=True
    )
    both = await channel.declare_queue(doomed.queue(f"{namespace}.both"), exclusive=True)
    either = await channel.declare_queue(doomed.queue(f"{namespace}.either"), exclusive=True)
    await both.bind(exchange, arguments={"x-match": "all", "region": "eu", "vip": "yes"})
    await either.bind(exchange, arguments={"x-match": "any", "region": "eu", "vip": "yes"})

    await exchange.publish(Message(b"1", headers={"region": "eu", "vip": "yes"}), routing_key="")
    await exchange.publish(Message(b"2", headers={"region": "eu", "vip": "no"}), routing_key="")
    await exchange.publish(Message(b"3", headers={"region": "us"}), routing_key="")

    assert [m.body for m in await drain(both)] == [b"1"]
    assert [m.body for m in await drain(either)] == [b"1", b"2"]


async def test_confirms_report_an_unroutable_mandatory_message(amqp, topology) -> None:
    publisher = await Publisher.open(amqp, topology.exchange)

    with pytest.raises(Unroutable, match="invoice.created"):  # no binding matches it
        await publisher.publish(event("created"), routing_key="invoice.created")

    # Without mandatory the broker confirms it and drops it: nobody is told
    await publisher.publish(event("created"), routing_key="invoice.created", mandatory=False)


async def test_work_queues_are_quorum_and_messages_persistent(amqp, topology) -> None:
    publisher = await Publisher.open(amqp, topology.exchange)
    await publisher.publish(event("created"))
    channel = await amqp.channel()
    message = await get_one(await channel.get_queue(topology.queue("billing").name))
    await message.ack()

    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    # Declaring the same name as a classic queue is refused: it exists as a quorum queue
    billing = topology.queue("billing")
    classic = {**topology.work_arguments(billing), "x-queue-type": "classic"}
    with pytest.raises(ChannelPreconditionFailed, match="x-queue-type"):
        await channel.declare_queue(billing.name, durable=True, arguments=classic)


async def test_one_consumer_gets_a_queue_in_publish_order(amqp, doomed, namespace) -> None:
    channel = await amqp.channel()
    queue = await channel.declare_queue(
        doomed.queue(f"{namespace}.fifo"), durable=True, arguments=quorum()
    )
    for n in range(20):
        await channel.default_exchange.publish(Message(str(n).encode()), routing_key=queue.name)

    assert [int(m.body) for m in await drain(queue)] == list(range(20))


async def test_an_acked_message_is_gone_and_a_new_queue_sees_only_new_messages(
    amqp, doomed, namespace
) -> None:
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        doomed.exchange(f"{namespace}.events"), ExchangeType.FANOUT, durable=True
    )
    early = await channel.declare_queue(doomed.queue(f"{namespace}.early"), exclusive=True)
    await early.bind(exchange)
    await exchange.publish(Message(b"before"), routing_key="")
    assert [m.body for m in await drain(early)] == [b"before"]

    late = await channel.declare_queue(doomed.queue(f"{namespace}.late"), exclusive=True)
    await late.bind(exchange)
    await exchange.publish(Message(b"after"), routing_key="")

    assert [m.body for m in await drain(late)] == [b"after"]  # no replay of "before"
    assert [m.body for m in await drain(early)] == [b"after"]  # and "before" is not kept
