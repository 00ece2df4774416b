"""Exchanges, queues and bindings of the order events, declared idempotently.

    producer --order.created--> [orders: topic] --order.created--> billing
                                                 --order.paid-----> shipping
                                                 --order.#--------> audit

Every work queue is a durable **quorum queue** (replicated with Raft, the data-safe queue
type; classic mirrored queues are gone in RabbitMQ 4) with two companions:

- `<queue>.retry`: a failed message waits here for `retry_delay_ms` (x-message-ttl), then
  the queue's dead-letter exchange (the default exchange, routing key = the work queue's
  name) puts it back on *that* work queue only, not on every queue bound to `orders`.
- `<queue>.parking`: where a message ends after its last attempt, or when the quorum queue
  gives up on it after `delivery_limit` deliveries nobody acked (a consumer that crashes on
  it every time). The work queue dead-letters to the `dlx` exchange, which routes here.
  A person looks at the parking queue; nothing in it is retried automatically.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractQueue
from pamqp.common import FieldTable

ORDER_CONSUMERS: dict[str, tuple[str, ...]] = {
    "billing": ("order.created",),
    "shipping": ("order.paid",),
    "audit": ("order.#",),  # `#` matches zero or more words, `*` exactly one
}


def quorum(arguments: FieldTable | None = None) -> FieldTable:
    return {"x-queue-type": "quorum", **(arguments or {})}


@dataclass(frozen=True)
class WorkQueue:
    name: str

    @property
    def retry(self) -> str:
        return f"{self.name}.retry"

    @property
    def parking(self) -> str:
        return f"{self.name}.parking"


@dataclass(frozen=True)
class OrderTopology:
    namespace: str
    retry_delay_ms: int
    # Set explicitly: RabbitMQ 4 defaults to 20 deliveries, 3.x to no limit at all.
    delivery_limit: int
    consumers: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(ORDER_CONSUMERS))

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.orders"

    @property
    def dlx(self) -> str:
        return f"{self.namespace}.dlx"

    def queue(self, consumer: str) -> WorkQueue:
        return WorkQueue(f"{self.namespace}.{consumer}")

    def work_arguments(self, wq: WorkQueue) -> FieldTable:
        return quorum(
            {
                "x-dead-letter-exchange": self.dlx,
                "x-dead-letter-routing-key": wq.parking,
                "x-delivery-limit": self.delivery_limit,
            }
        )

    async def declare(self, channel: AbstractChannel) -> dict[str, AbstractQueue]:
        """Declare everything (a no-op when it already exists with the same arguments)."""
        orders = await channel.declare_exchange(self.exchange, ExchangeType.TOPIC, durable=True)
        dlx = await channel.declare_exchange(self.dlx, ExchangeType.DIRECT, durable=True)
        queues = {}
        for consumer, keys in self.consumers.items():
            wq = self.queue(consumer)
            parking = await channel.declare_queue(wq.parking, durable=True, arguments=quorum())
            await parking.bind(dlx, routing_key=wq.parking)
            await channel.declare_queue(
                wq.retry,
                durable=True,
                arguments=quorum(
                    {
                        "x-message-ttl": self.retry_delay_ms,
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": wq.name,
                    }
                ),
            )
            work = await channel.declare_queue(
                wq.name, durable=True, arguments=self.work_arguments(wq)
            )
            for key in keys:
                await work.bind(orders, routing_key=key)
            queues[consumer] = work
        return queues

    def names(self) -> list[tuple[str, str]]:
        """("queue" | "exchange", name) of everything `declare` creates."""
        out = [("exchange", self.exchange), ("exchange", self.dlx)]
        for consumer in self.consumers:
            wq = self.queue(consumer)
            out += [("queue", wq.name), ("queue", wq.retry), ("queue", wq.parking)]
        return out

    async def delete(self, channel: AbstractChannel) -> None:
        for kind, name in self.names():
            if kind == "queue":
                await channel.queue_delete(name)
            else:
                await channel.exchange_delete(name)
