"""Telling the customer. Here a log line; in production an email or a message on a queue."""

from __future__ import annotations

import logging
from typing import Protocol

from orders.domain import Order, format_money

log = logging.getLogger("orders.notifier")


class Notifier(Protocol):
    async def order_paid(self, order: Order) -> None:
        """Tell the customer that their order is paid and on its way."""


class LogNotifier:
    async def order_paid(self, order: Order) -> None:
        log.info(
            "order %s paid: %s to %s",
            order.id,
            format_money(order.quote.total_cents),
            order.customer_email,
        )
