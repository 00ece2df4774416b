"""Property-based tests: rules that must hold for *every* order, checked on generated ones.

An example test says "this order costs 29.99". A property says "no order ever costs less than
its shipping" and lets Hypothesis search for a counterexample, then shrink it to the
smallest one that still fails.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.domain import (
    MAX_COUPON_PERCENT,
    MAX_QUANTITY,
    SHIPPING_FEE,
    Coupon,
    InvalidQuantity,
    LineItem,
    Product,
    Quote,
    format_money,
    parse_money,
    price_order,
    release_stock,
    reserve_stock,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@st.composite
def within_limits(draw: st.DrawFn) -> list[LineItem]:
    """1 to 6 lines, the same SKU on several lines at times, never over 100 units per SKU."""
    room = dict.fromkeys("ABC", MAX_QUANTITY)
    order = []
    for _ in range(draw(st.integers(1, 6))):
        open_skus = [sku for sku, left in room.items() if left]
        if not open_skus:  # every SKU at its limit: the order is as full as it may be
            break
        sku = draw(st.sampled_from(open_skus))
        quantity = draw(st.integers(1, room[sku]))
        room[sku] -= quantity
        order.append(LineItem(sku, quantity, draw(st.integers(0, 1_000_00))))
    return order


lines = within_limits()
coupons = st.none() | st.builds(
    Coupon,
    code=st.just("C"),
    percent_off=st.integers(1, MAX_COUPON_PERCENT),
    expires_at=st.just(NOW + timedelta(days=1)),
)


@given(lines, coupons)
def test_discount_never_exceeds_the_subtotal_and_totals_are_never_negative(
    order: list[LineItem], coupon: Coupon | None
) -> None:
    quote = price_order(order, coupon, NOW)
    assert all(isinstance(cents, int) for cents in vars(quote).values())  # never fractions
    assert 0 <= quote.discount_cents <= quote.subtotal_cents
    assert quote.total_cents >= quote.shipping_cents >= 0


@given(lines, coupons)
def test_shipping_is_either_free_or_the_flat_fee(
    order: list[LineItem], coupon: Coupon | None
) -> None:
    assert price_order(order, coupon, NOW).shipping_cents in (0, SHIPPING_FEE)


def goods(quote: Quote) -> int:
    """What the items cost after discounts, shipping aside."""
    return quote.subtotal_cents - quote.discount_cents


@given(lines, coupons)
def test_a_coupon_never_makes_an_order_more_expensive(
    order: list[LineItem], coupon: Coupon | None
) -> None:
    with_coupon = price_order(order, coupon, NOW)
    without = price_order(order, None, NOW)
    assert goods(with_coupon) <= goods(without)
    assert with_coupon.total_cents <= without.total_cents + SHIPPING_FEE


@given(lines, coupons, st.randoms(use_true_random=False))
def test_the_order_of_lines_does_not_change_the_price(
    order: list[LineItem], coupon: Coupon | None, rnd: random.Random
) -> None:
    shuffled = list(order)
    rnd.shuffle(shuffled)
    assert price_order(shuffled, coupon, NOW) == price_order(order, coupon, NOW)


@given(st.integers(min_value=0, max_value=999_999_999_99))  # parse_money takes 9 digits
def test_money_survives_a_round_trip_through_text(cents: int) -> None:
    assert parse_money(format_money(cents)) == cents


@given(lines, st.integers(0, 2 * MAX_QUANTITY))
def test_reserve_then_release_restores_stock_and_never_goes_negative(
    order: list[LineItem], spare: int
) -> None:
    # Enough stock for the order plus `spare`, so the reservation always succeeds.
    wanted: dict[str, int] = {}
    for line in order:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    products = {sku: Product(sku, sku, 1_00, qty + spare) for sku, qty in wanted.items()}
    left = reserve_stock(products, order)
    assert all(level >= 0 for level in left.values())
    assert release_stock(left, order) == {sku: p.stock for sku, p in products.items()}


@given(
    st.lists(
        st.builds(LineItem, st.sampled_from("AB"), st.integers(1, MAX_QUANTITY), st.just(1_00)),
        min_size=1,
        max_size=4,
    )
)
def test_an_order_is_refused_exactly_when_one_product_passes_the_limit(
    order: list[LineItem],
) -> None:
    # The limit is per product: 60 + 60 of one SKU on two lines is 120, refused.
    units = {sku: sum(line.quantity for line in order if line.sku == sku) for sku in "AB"}
    over = {sku for sku, n in units.items() if n > MAX_QUANTITY}
    if not over:
        assert price_order(order, None, NOW).subtotal_cents == 1_00 * sum(units.values())
        return
    with pytest.raises(InvalidQuantity) as refused:
        price_order(order, None, NOW)
    assert str(refused.value).split(":")[0] in over
