"""Time in tests: a fake clock where we own the seam, time-machine where we do not.

``FakeClock`` is the cheap answer when the code takes a ``Clock``. time-machine is for the
real ``SystemClock`` (or any code that calls ``datetime.now()`` itself): it moves the time the
whole process sees, with no sleep and no flakiness at midnight.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from orders.clock import SystemClock
from orders.domain import Coupon, CouponExpired, Product
from orders.service import OrderRequest, OrderService
from testkit.fakes import FakePayments, FakeRepository, RecordingNotifier

LAUNCH = datetime(2026, 6, 30, 23, 59, tzinfo=UTC)


def test_the_system_clock_is_timezone_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC


@time_machine.travel(LAUNCH, tick=False)
def test_the_system_clock_follows_time_machine() -> None:
    assert SystemClock().now() == LAUNCH


async def test_a_coupon_works_until_midnight_and_not_a_second_later(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    # Given a coupon that expires at midnight and a service on the real system clock
    midnight = datetime(2026, 7, 1, tzinfo=UTC)
    repo = FakeRepository([Product("TEE", "T-shirt", 20_00, 10)], [Coupon("JUNE", 20, midnight)])
    service = OrderService(repo, FakePayments(), SystemClock(), RecordingNotifier())
    order = OrderRequest("ada@example.com", [("TEE", 1)], "JUNE")

    # When it is one minute to midnight, the coupon applies
    time_machine.move_to(LAUNCH, tick=False)
    assert (await service.place_order(order)).quote.discount_cents == 4_00

    # When the clock strikes midnight, it no longer does
    time_machine.shift(timedelta(minutes=1))
    with pytest.raises(CouponExpired):
        await service.place_order(order)
