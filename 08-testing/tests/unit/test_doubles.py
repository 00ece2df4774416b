"""When a mock lies: a test that passes while the code is broken, and two ways to fix it.

The "broken code" here is a call written the way bugs are written: a method renamed in the
class but not at the call site, a keyword argument spelled the old way. A bare ``Mock``
accepts anything, so a test built on it stays green. ``create_autospec`` copies the real
interface; a fake implements it. Either turns the same bug into a red test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import AsyncMock, create_autospec

import pytest

from orders.domain import LineItem, Order, Quote
from orders.notifier import LogNotifier
from orders.payments import HttpPaymentGateway
from testkit.fakes import FakePayments

ORDER = Order(
    "o-1",
    "ada@example.com",
    [LineItem("A", 1, 1_00)],
    Quote(1_00, 0, 4_99),
    datetime(2026, 3, 1, tzinfo=UTC),
)


async def announce_with_old_name(notifier: LogNotifier, order: Order) -> None:
    """Broken on purpose: the method is called ``order_paid``, not ``order_confirmed``."""
    await notifier.order_confirmed(order)  # type: ignore[attr-defined]


async def charge_with_old_keyword(payments: HttpPaymentGateway) -> str:
    """Broken on purpose: the keyword is ``amount_cents``; ``amount`` was renamed long ago."""
    return await payments.charge(amount=1_00, customer="a@b.c", idempotency_key="k")  # type: ignore[call-arg]


async def test_a_bare_mock_passes_a_call_to_a_method_that_does_not_exist() -> None:
    notifier = AsyncMock()
    await announce_with_old_name(notifier, ORDER)
    # The lie: green, and the assertion even "confirms" the broken call.
    notifier.order_confirmed.assert_awaited_once_with(ORDER)


async def test_autospec_turns_the_renamed_method_into_a_failure() -> None:
    notifier = create_autospec(LogNotifier, instance=True)
    with pytest.raises(AttributeError, match="order_confirmed"):
        await announce_with_old_name(notifier, ORDER)


async def test_a_bare_mock_passes_a_wrong_keyword_argument() -> None:
    payments = AsyncMock()
    payments.charge.return_value = "ch_1"
    assert await charge_with_old_keyword(payments) == "ch_1"  # the lie


async def test_autospec_checks_the_signature() -> None:
    payments = create_autospec(HttpPaymentGateway, instance=True)
    with pytest.raises(TypeError, match="amount"):
        await charge_with_old_keyword(payments)


async def test_a_fake_checks_the_signature_because_it_is_real_code() -> None:
    with pytest.raises(TypeError, match="amount"):
        await charge_with_old_keyword(FakePayments())  # type: ignore[arg-type]
