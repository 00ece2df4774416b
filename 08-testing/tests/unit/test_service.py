"""The use cases, driven through fakes: every branch of OrderService in milliseconds."""

from __future__ import annotations

from unittest.mock import create_autospec

import pytest

from orders.domain import CouponExpired, OrderStatus, OutOfStock
from orders.notifier import LogNotifier
from orders.payments import PaymentDeclined, PaymentError, PaymentUnavailable
from orders.service import (
    NotPayable,
    OrderNotFound,
    OrderRequest,
    OrderService,
    UnknownCoupon,
    UnknownProduct,
)
from testkit.fakes import FakeClock, FakePayments, FakeRepository, RecordingNotifier


def request(*items: tuple[str, int], coupon: str | None = None) -> OrderRequest:
    return OrderRequest("ada@example.com", items, coupon)


async def test_a_paid_order_is_charged_saved_and_announced(
    service: OrderService,
    repo: FakeRepository,
    payments: FakePayments,
    notifier: RecordingNotifier,
) -> None:
    order = await service.place_order(request(("MUG", 2), coupon="TEN"))

    assert order.status is OrderStatus.PAID
    assert order.quote.total_cents == 19_00 - 1_90 + 4_99
    assert payments.calls == [
        {"amount_cents": order.quote.total_cents, "customer": "ada@example.com", "key": order.id}
    ]
    assert repo.committed[order.id].status is OrderStatus.PAID
    assert repo.committed[order.id].charge_id == "ch_1"
    assert repo.products["MUG"].stock == 3
    assert notifier.paid == [order.id]


async def test_the_order_is_committed_before_any_money_moves(
    repo: FakeRepository, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    # Given a payment provider that looks at what is durable at the moment it is called
    seen: list[OrderStatus] = []

    class Inspecting(FakePayments):
        async def charge(self, *, amount_cents: int, customer: str, idempotency_key: str) -> str:
            seen.append(repo.committed[idempotency_key].status)
            return "ch_x"

    service = OrderService(repo, Inspecting(), clock, notifier)
    await service.place_order(request(("BOOK", 1)))
    # Then the order was already committed, as pending, when the charge happened
    assert seen == [OrderStatus.PENDING_PAYMENT]


@pytest.mark.parametrize(
    ("items", "coupon", "error"),
    [
        ((("NOPE", 1), ("GONE", 1)), None, UnknownProduct),
        ((("MUG", 1),), "WHO", UnknownCoupon),
        ((("MUG", 1),), "OLD", CouponExpired),
        ((("BOOK", 3),), None, OutOfStock),
    ],
    ids=["unknown-product", "unknown-coupon", "expired-coupon", "out-of-stock"],
)
async def test_a_rejected_order_charges_nothing_and_stores_nothing(
    service: OrderService,
    repo: FakeRepository,
    payments: FakePayments,
    items: tuple[tuple[str, int], ...],
    coupon: str | None,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        await service.place_order(request(*items, coupon=coupon))
    assert payments.calls == []
    assert repo.orders == {}
    assert (repo.products["MUG"].stock, repo.products["BOOK"].stock) == (5, 2)


async def test_unknown_products_are_all_named(service: OrderService) -> None:
    with pytest.raises(UnknownProduct, match="GONE, NOPE"):
        await service.place_order(request(("NOPE", 1), ("MUG", 1), ("GONE", 1)))


async def test_a_declined_payment_is_recorded_and_the_stock_released(
    repo: FakeRepository, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    service = OrderService(repo, FakePayments(PaymentDeclined("card declined")), clock, notifier)

    with pytest.raises(PaymentDeclined) as caught:
        await service.place_order(request(("BOOK", 2)))

    assert caught.value.order_id is not None
    order = repo.committed[caught.value.order_id]
    assert (order.status, order.failure_reason) == (OrderStatus.PAYMENT_FAILED, "card declined")
    assert repo.products["BOOK"].stock == 2
    assert notifier.paid == []


@pytest.mark.parametrize(
    "failure",
    [PaymentUnavailable("timed out"), PaymentError("provider rejected the request: 400")],
    ids=["unavailable", "rejected"],
)
async def test_an_unfinished_payment_keeps_the_order_pending_and_can_be_retried(
    repo: FakeRepository, clock: FakeClock, notifier: RecordingNotifier, failure: PaymentError
) -> None:
    payments = FakePayments(failure, "ch_retry")
    service = OrderService(repo, payments, clock, notifier)

    with pytest.raises(type(failure)) as caught:
        await service.place_order(request(("BOOK", 1)))
    order_id = caught.value.order_id
    assert order_id is not None
    assert repo.committed[order_id].status is OrderStatus.PENDING_PAYMENT
    assert repo.products["BOOK"].stock == 1  # still held for this order

    paid = await service.pay(order_id)
    assert (paid.status, paid.charge_id) == (OrderStatus.PAID, "ch_retry")
    assert [call["key"] for call in payments.calls] == [order_id, order_id]
    assert notifier.paid == [order_id]


async def test_paying_twice_is_refused(service: OrderService) -> None:
    order = await service.place_order(request(("MUG", 1)))
    with pytest.raises(NotPayable, match="is paid"):
        await service.pay(order.id)


async def test_paying_an_unknown_order_is_refused(service: OrderService) -> None:
    with pytest.raises(OrderNotFound):
        await service.pay("no-such-order")


async def test_the_notifier_gets_the_paid_order(
    repo: FakeRepository, payments: FakePayments, clock: FakeClock
) -> None:
    # autospec: the mock has LogNotifier's methods with their real signatures, and
    # async methods become AsyncMocks, so `await` works and a wrong call fails loudly.
    notifier = create_autospec(LogNotifier, instance=True)
    service = OrderService(repo, payments, clock, notifier)

    order = await service.place_order(request(("MUG", 1)))

    notifier.order_paid.assert_awaited_once_with(order)
