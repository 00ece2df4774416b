"""A consumer that acks manually, retries with a delay, and parks what keeps failing.

The ack is sent only after the handler succeeded, so a consumer that dies mid-way leaves the
message unacked and RabbitMQ delivers it again (to another consumer). That is at-least-once:
the handler must be idempotent (idempotency.py).

On failure:
- bad data (not a valid event, or `PermanentError`) is rejected without requeue at once: the
  work queue dead-letters it to its parking queue; retrying cannot help.
- anything else is retried: a copy with `x-attempt` + 1 goes to the retry queue (confirmed),
  then the original is acked. The copy comes back after the retry queue's TTL. After
  `max_attempts` the message is rejected into the parking queue instead, with the broker's
  `x-death` header saying where and why it died.
- `nack(requeue=True)` would retry at once, in a hot loop: fine for a blip, not for an outage.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from enum import StrEnum

from aio_pika import Message
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from pamqp.commands import Basic
from pydantic import ValidationError

from messaging.amqp.topology import WorkQueue
from messaging.events import OrderEvent

log = logging.getLogger(__name__)

Handler = Callable[[OrderEvent], Awaitable[None]]
# Headers the broker owns; a copy we publish must not carry them over.
BROKER_HEADERS = ("x-death", "x-first-death-exchange", "x-first-death-queue",
                  "x-first-death-reason", "x-delivery-count")  # fmt: skip


class PermanentError(Exception):
    """Retrying cannot help (an order for a product that does not exist): park at once."""


class Outcome(StrEnum):
    DONE = "done"
    RETRIED = "retried"
    PARKED = "parked"


def last_death(message: AbstractIncomingMessage) -> tuple[str, str] | None:
    """(queue, reason) of the latest dead-lettering the broker recorded in `x-death`:
    reason is `rejected`, `expired`, `maxlen` or `delivery_limit`."""
    deaths = (message.headers or {}).get("x-death")
    if not isinstance(deaths, list) or not deaths or not isinstance(deaths[0], dict):
        return None
    return str(deaths[0].get("queue")), str(deaths[0].get("reason"))


def attempt_of(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get("x-attempt", 1)
    return value if isinstance(value, int) and value >= 1 else 1


class RetryingConsumer:
    def __init__(
        self, channel: AbstractChannel, queue: WorkQueue, handler: Handler, max_attempts: int
    ) -> None:
        self.channel, self.queue, self.handler = channel, queue, handler
        self.max_attempts = max_attempts
        self.outcomes: Counter[Outcome] = Counter()

    async def __call__(self, message: AbstractIncomingMessage) -> None:
        self.outcomes[await self.handle(message)] += 1

    async def handle(self, message: AbstractIncomingMessage) -> Outcome:
        attempt = attempt_of(message)
        try:
            event = OrderEvent.model_validate_json(message.body)
            await self.handler(event)
        except (ValidationError, PermanentError) as exc:
            return await self._park(message, attempt, exc)
        except Exception as exc:
            if attempt >= self.max_attempts:
                return await self._park(message, attempt, exc)
            return await self._retry(message, attempt, exc)
        await message.ack()
        return Outcome.DONE

    async def _retry(
        self, message: AbstractIncomingMessage, attempt: int, exc: Exception
    ) -> Outcome:
        headers = {k: v for k, v in (message.headers or {}).items() if k not in BROKER_HEADERS}
        headers.update({"x-attempt": attempt + 1, "x-last-error": _short(exc)})
        copy = Message(
            message.body,
            headers=headers,
            # The client matches a returned message to its publish by id: never leave it empty.
            message_id=message.message_id or uuid.uuid4().hex,
            content_type=message.content_type,
            delivery_mode=message.delivery_mode,
        )
        # Confirmed before the ack: a crash in between duplicates the message (the consumer
        # is idempotent) rather than losing it. Mandatory, because the broker also confirms a
        # message no queue took: with the retry queue gone (deleted, renamed) the copy would
        # vanish and the ack below would lose the original too.
        confirmation = await self.channel.default_exchange.publish(
            copy, routing_key=self.queue.retry, mandatory=True
        )
        if not isinstance(confirmation, Basic.Ack):  # returned (no such queue) or nacked
            return await self._park(message, attempt, RuntimeError(f"no {self.queue.retry}"))
        await message.ack()
        log.warning("retrying %s (attempt %d failed: %s)", message.message_id, attempt, exc)
        return Outcome.RETRIED

    async def _park(
        self, message: AbstractIncomingMessage, attempt: int, exc: Exception
    ) -> Outcome:
        # requeue=False dead-letters it: the work queue's DLX routes it to the parking queue.
        await message.reject(requeue=False)
        log.error("parked %s after %d attempt(s): %s", message.message_id, attempt, _short(exc))
        return Outcome.PARKED


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
