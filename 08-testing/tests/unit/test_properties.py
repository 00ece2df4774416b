"""Property-based tests: rules that must hold for *every* order, checked on generated ones.

An example test says "this order costs 29.99". A property says "no order ever costs less than
its shipping" and lets Hypothesis search for a counterexample, then shrink it to the
smallest one that still fails.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from orders.domain import (
    MAX_COUPON_PERCENT,
    MAX_QUANTITY,
    SHIPPING_FEE,
    Coupon,
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

lines = st.lists(
    st.builds(
        LineItem,
        sku=st.sampled_from(["A", "B", "C"]),
        quantity=st.integers(1, MAX_QUANTITY),
        unit_price_cents=st.integers(0, 1_000_00),
    ),
    min_size=1,
    max_size=6,
)
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
