"""Every query demo returns exactly the rows worked out by hand from the tiny shop
(tests/conftest.py: 3 customers, 4 products, 7 orders in Jan-Mar 2024, order 4 cancelled)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from shopdb import queries

pytestmark = pytest.mark.postgres

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)

EXPECTED: dict[str, list[tuple[object, ...]]] = {
    "category_tree": [
        (1, 0, "Electronics"),
        (2, 1, "Electronics > Audio"),
        (5, 2, "Electronics > Audio > Headphones"),
        (6, 2, "Electronics > Audio > Speakers"),
        (3, 1, "Electronics > Computers"),
        (8, 2, "Electronics > Computers > Accessories"),
        (7, 2, "Electronics > Computers > Laptops"),
        (4, 1, "Electronics > Phones"),
        (9, 0, "Home"),
        (11, 1, "Home > Garden"),
        (10, 1, "Home > Kitchen"),
        (12, 2, "Home > Kitchen > Coffee"),
    ],
    # Ada: 100.00, then +1500.00, then +60.00; Grace: 130.00, then +150.00.
    "running_total": [
        (1, 1, date(2024, 1, 5), 10000, 10000),
        (1, 3, date(2024, 2, 3), 150000, 160000),
        (1, 5, date(2024, 3, 1), 6000, 166000),
        (2, 2, date(2024, 1, 20), 13000, 13000),
        (2, 6, date(2024, 3, 15), 15000, 28000),
    ],
    # Product 1 sold 1 (order 1) + 1 (order 6); its 2 in cancelled order 4 do not count.
    "top_products": [
        ("Headphones", "Quiet Headphones 1", 20000, 1),
        ("Headphones", "Classic Headphones 2", 15000, 2),
        ("Laptops", "Pro Laptop 3", 150000, 1),
        ("Coffee", "Compact Grinder 4", 12000, 1),
    ],
    # Moving average of Mar: (23000 + 150000 + 24000) / 3 = 65666.67, rounded.
    "monthly_revenue": [
        (JAN, 23000, None, Decimal("23000")),
        (FEB, 150000, 127000, Decimal("86500")),
        (MAR, 24000, -126000, Decimal("65667")),
    ],
    "latest_orders": [
        (1, "Ada Lovelace", 5, date(2024, 3, 1), 6000),
        (1, "Ada Lovelace", 3, date(2024, 2, 3), 150000),
        (2, "Grace Hopper", 6, date(2024, 3, 15), 15000),
        (2, "Grace Hopper", 2, date(2024, 1, 20), 13000),
        (3, "Alan Turing", 7, date(2024, 3, 20), 3000),
        (3, "Alan Turing", 4, date(2024, 2, 10), 20000),
    ],
    "cancellations": [
        (JAN, 2, 0, Decimal("0.0")),
        (FEB, 2, 1, Decimal("50.0")),
        (MAR, 3, 0, Decimal("0.0")),
    ],
    # NULL status = subtotal of the country; NULL country = grand total.
    "sales_rollup": [
        ("DE", "cancelled", 1, 20000),
        ("DE", "delivered", 3, 163000),
        ("DE", "shipped", 1, 6000),
        ("DE", None, 5, 189000),
        ("FR", "delivered", 1, 13000),
        ("FR", "pending", 1, 15000),
        ("FR", None, 2, 28000),
        (None, None, 7, 217000),
    ],
    # Spend: Ada 166000, Grace 28000, Alan 3000; average 65666.67.
    "big_spenders": [(1, "Ada Lovelace", 166000)],
}


def test_every_demo_has_expected_rows() -> None:
    assert set(EXPECTED) == set(queries.QUERIES)


@pytest.mark.parametrize("name", sorted(queries.QUERIES))
def test_demo_returns_exact_rows(shop: psycopg.Connection, name: str) -> None:
    result = queries.run(shop, queries.QUERIES[name])

    assert result.rows == EXPECTED[name]


def test_dates_do_not_depend_on_the_session_time_zone(shop: psycopg.Connection) -> None:
    # Order 5 was placed at 08:00 UTC on 1 March; in Los Angeles that is still February.
    shop.execute("SET TIME ZONE 'America/Los_Angeles'")

    result = queries.run(shop, queries.QUERIES["monthly_revenue"])

    assert [row[:2] for row in result.rows] == [(JAN, 23000), (FEB, 150000), (MAR, 24000)]
