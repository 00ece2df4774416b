"""Example-based tests of the pricing and stock rules.

Every boundary gets a test on each side (9 vs 10 units, exactly 50.00 vs 49.99): that is
where off-by-one bugs live, and where mutation testing finds the gaps that coverage hides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders.domain import (
    Coupon,
    CouponExpired,
    CouponNotApplicable,
    EmptyOrder,
    InvalidQuantity,
    LineItem,
    OutOfStock,
    Product,
    Quote,
    bulk_discount,
    format_money,
    parse_money,
    price_order,
    release_stock,
    requested_quantities,
    reserve_stock,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def coupon(
    percent: int = 10, *, expires_in: timedelta = timedelta(days=1), minimum: int = 0
) -> Coupon:
    return Coupon("SAVE", percent, expires_at=NOW + expires_in, min_subtotal_cents=minimum)


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [(1, 0), (9, 0), (10, 50), (11, 55), (100, 500)],
    ids=["single", "just-below-bulk", "bulk-threshold", "above-bulk", "max-quantity"],
)
def test_bulk_discount_is_five_percent_from_ten_units(quantity: int, expected: int) -> None:
    assert bulk_discount(LineItem("X", quantity, 1_00)) == expected


def test_bulk_discount_rounds_down_to_never_over_discount() -> None:
    # 10 x 0.33 = 3.30, 5% = 16.5 cents -> 16
    assert bulk_discount(LineItem("X", 10, 33)) == 16


def test_quote_adds_up_lines_and_charges_shipping_below_the_free_threshold() -> None:
    quote = price_order([LineItem("A", 2, 10_00), LineItem("B", 1, 5_00)], None, NOW)
    assert quote == Quote(subtotal_cents=25_00, discount_cents=0, shipping_cents=4_99)
    assert quote.total_cents == 29_99


@pytest.mark.parametrize(
    ("unit_price", "shipping"),
    [(49_99, 4_99), (50_00, 0)],
    ids=["one-cent-short-pays-shipping", "exactly-threshold-ships-free"],
)
def test_free_shipping_from_fifty(unit_price: int, shipping: int) -> None:
    assert price_order([LineItem("A", 1, unit_price)], None, NOW).shipping_cents == shipping


def test_free_shipping_looks_at_the_amount_after_discounts() -> None:
    # 55.00 minus 10% is 49.50: below the threshold once the coupon applies.
    quote = price_order([LineItem("A", 1, 55_00)], coupon(10), NOW)
    assert (quote.discount_cents, quote.shipping_cents) == (5_50, 4_99)


def test_coupon_applies_to_what_is_left_after_the_bulk_discount() -> None:
    # 10 x 10.00 = 100.00; bulk 5.00; coupon 20% of 95.00 = 19.00
    quote = price_order([LineItem("A", 10, 10_00)], coupon(20), NOW)
    assert quote.discount_cents == 5_00 + 19_00
    assert quote.total_cents == 76_00


def test_coupon_expires_at_the_exact_instant() -> None:
    at_expiry = coupon(expires_in=timedelta(0))
    with pytest.raises(CouponExpired, match="SAVE expired at 2026-03-01"):
        price_order([LineItem("A", 1, 10_00)], at_expiry, NOW)
    just_before = coupon(expires_in=timedelta(microseconds=1))
    assert price_order([LineItem("A", 1, 10_00)], just_before, NOW).discount_cents == 1_00


def test_a_coupon_discount_rounds_down_to_whole_cents() -> None:
    # 10% of 9.99 is 99.9 cents. Written to kill a mutant that survived 100% coverage:
    # `// 100` -> `/ 100` made the discount a float and no other test noticed.
    quote = price_order([LineItem("A", 1, 9_99)], coupon(10), NOW)
    assert quote.discount_cents == 99
    assert isinstance(quote.total_cents, int)


@pytest.mark.parametrize(
    ("subtotal", "applies"), [(99_99, False), (100_00, True)], ids=["below-min", "at-min"]
)
def test_coupon_minimum_subtotal(subtotal: int, applies: bool) -> None:
    lines = [LineItem("A", 1, subtotal)]
    if applies:
        assert price_order(lines, coupon(minimum=100_00), NOW).discount_cents == 10_00
    else:
        with pytest.raises(CouponNotApplicable, match="needs a subtotal of 100.00"):
            price_order(lines, coupon(minimum=100_00), NOW)


@pytest.mark.parametrize("percent", [0, 51, -5], ids=["zero", "above-max", "negative"])
def test_a_coupon_outside_1_to_50_percent_cannot_exist(percent: int) -> None:
    with pytest.raises(ValueError, match="percent_off must be 1..50"):
        coupon(percent)


@pytest.mark.parametrize(("percent", "off"), [(1, 1_00), (50, 50_00)], ids=["min", "max"])
def test_coupon_percent_bounds_are_inclusive(percent: int, off: int) -> None:
    quote = price_order([LineItem("A", 1, 100_00)], coupon(percent), NOW)
    assert quote.discount_cents == off


def test_an_empty_order_is_rejected() -> None:
    # match= is re.search: anchor it, or "XXan order needs at least one lineXX" passes too.
    with pytest.raises(EmptyOrder, match="^an order needs at least one line$"):
        price_order([], None, NOW)


@pytest.mark.parametrize("quantity", [0, -1], ids=["zero", "negative"])
def test_a_line_needs_at_least_one_unit(quantity: int) -> None:
    with pytest.raises(InvalidQuantity, match="^X: quantity must be at least 1$"):
        price_order([LineItem("X", quantity, 1_00)], None, NOW)


@pytest.mark.parametrize(
    "quantities",
    [(101,), (60, 60), (99, 1, 1)],
    ids=["one-line", "two-lines-of-60", "three-lines"],
)
def test_more_than_100_of_one_product_is_refused_however_it_is_split(
    quantities: tuple[int, ...],
) -> None:
    lines = [LineItem("X", q, 1_00) for q in quantities]
    with pytest.raises(InvalidQuantity, match=rf"^X: {sum(quantities)} units, at most 100 per"):
        price_order([LineItem("Y", 100, 1_00), *lines], None, NOW)


@pytest.mark.parametrize("quantities", [(100,), (50, 50)], ids=["one-line", "two-lines"])
def test_100_of_one_product_is_allowed(quantities: tuple[int, ...]) -> None:
    lines = [LineItem("X", q, 1_00) for q in quantities]
    assert price_order(lines, None, NOW).subtotal_cents == 100_00


def test_same_sku_on_two_lines_counts_against_stock_once() -> None:
    lines = [LineItem("A", 3, 1_00), LineItem("B", 1, 1_00), LineItem("A", 2, 1_00)]
    assert requested_quantities(lines) == {"A": 5, "B": 1}
    products = {"A": Product("A", "a", 1_00, 5), "B": Product("B", "b", 1_00, 1)}
    assert reserve_stock(products, lines) == {"A": 0, "B": 0}


def test_reserving_more_than_in_stock_names_the_sku_and_numbers() -> None:
    products = {"A": Product("A", "a", 1_00, 2)}
    with pytest.raises(OutOfStock, match="A: requested 3, only 2 in stock") as caught:
        reserve_stock(products, [LineItem("A", 3, 1_00)])
    assert (caught.value.sku, caught.value.requested, caught.value.available) == ("A", 3, 2)


def test_release_gives_back_exactly_what_was_reserved() -> None:
    lines = [LineItem("A", 2, 1_00), LineItem("A", 1, 1_00)]
    assert release_stock({"A": 7, "B": 4}, lines) == {"A": 10}


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (1234, "12.34"),
        (100_00, "100.00"),
        (-5, "-0.05"),
        (-1234, "-12.34"),
    ],
)
def test_format_money(cents: int, text: str) -> None:
    assert format_money(cents) == text


@pytest.mark.parametrize(
    ("text", "cents"), [("12.34", 1234), ("12", 1200), (" 0.05 ", 5), ("007.00", 700)]
)
def test_parse_money(text: str, cents: int) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["", "1.2", "1.234", "-1.00", "1,00", "abc", "1e3"])
def test_parse_money_rejects_anything_ambiguous(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_money(text)
