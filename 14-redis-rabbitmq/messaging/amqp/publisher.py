"""Publishing with publisher confirms and the mandatory flag.

A plain `basic.publish` is fire-and-forget: the client writes to a socket and learns nothing.
With confirms on, the broker acks each message once it has taken responsibility for it (for a
quorum queue: written by a majority of its replicas), or nacks it. With `mandatory=True` a
message that no queue is bound to receive comes back (`basic.return`) instead of vanishing:
aio-pika raises it as `PublishError` when the channel has `on_return_raises=True`.
"""

from __future__ import annotations

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractConnection, AbstractExchange, HeadersType
from aiormq.exceptions import DeliveryError, PublishError

from messaging.events import OrderEvent


class Unroutable(Exception):
    """No queue is bound for this routing key: the broker returned the message."""


class Refused(Exception):
    """The broker nacked the message (e.g. a queue at its length limit with reject-publish)."""


def to_message(event: OrderEvent, headers: HeadersType | None = None) -> Message:
    return Message(
        event.model_dump_json().encode(),
        message_id=event.id,
        content_type="application/json",
        # Persistent: written to disk. Quorum queues store every message anyway; on a classic
        # queue a transient message is lost when the broker restarts.
        delivery_mode=DeliveryMode.PERSISTENT,
        headers=headers or {},
    )


class Publisher:
    def __init__(self, exchange: AbstractExchange, confirms: bool) -> None:
        self.exchange, self.confirms = exchange, confirms

    @classmethod
    async def open(
        cls, connection: AbstractConnection, exchange: str, *, confirms: bool = True
    ) -> Publisher:
        channel = await connection.channel(publisher_confirms=confirms, on_return_raises=confirms)
        return cls(await channel.get_exchange(exchange, ensure=True), confirms)

    async def publish(
        self, event: OrderEvent, *, routing_key: str | None = None, mandatory: bool = True
    ) -> None:
        """Return once the broker has the message (with confirms), or raise why not."""
        key = routing_key or event.routing_key
        try:
            await self.exchange.publish(to_message(event), key, mandatory=mandatory)
        except PublishError as exc:
            raise Unroutable(f"no queue bound for {key!r} on {self.exchange.name!r}") from exc
        except DeliveryError as exc:
            raise Refused(f"broker refused {event.id} on {key!r}") from exc
