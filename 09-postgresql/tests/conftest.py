"""Fixtures: a probe of the PostgreSQL server, and throwaway databases seeded for the tests.

The server comes from DATABASE_URL when it is a postgresql URL, else the compose default.
Each database is named test_09_postgresql_<random hex>, created here and dropped at the
end of the session, so runs side by side never see each other's data.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from shopdb import dataset, db, loading
from shopdb.dataset import Dataset, Row, customer_identity
from shopdb.settings import masked, with_database

DEFAULT_SERVER = "postgresql://postgres:postgres@localhost:5432/postgres"


def _required(service: str) -> bool:
    wanted = {s.strip() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    return "all" in wanted or service in wanted


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else DEFAULT_SERVER


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server's URL - or a skip (a failure when LESSONS_REQUIRE_SERVICES names it)."""
    url = _server_url()
    try:
        db.connect(with_database(url, "postgres"), timeout=3).close()
    except psycopg.OperationalError:
        hint = f"PostgreSQL not reachable at {masked(url)} - run: docker compose up -d postgres"
        if _required("postgres"):
            pytest.fail(hint)
        pytest.skip(hint)
    return url


def _throwaway(server: str, data: Dataset) -> Iterator[str]:
    url = with_database(server, f"test_09_postgresql_{secrets.token_hex(4)}")
    db.create_database(url)
    try:
        with db.connect(url) as conn:
            loading.seed(conn, data)
        yield url
    finally:
        db.drop_database(url)


@pytest.fixture(scope="session")
def shop_url(postgres_server: str) -> Iterator[str]:
    """The tiny hand-written shop below: small enough to work out every answer by hand."""
    yield from _throwaway(postgres_server, tiny_shop())


@pytest.fixture(scope="session")
def generated_url(postgres_server: str) -> Iterator[str]:
    """The generator's shop at scale 1 (5,000 orders): plans need more than a few rows."""
    yield from _throwaway(postgres_server, dataset.generate(scale=1, seed=7))


@pytest.fixture
def shop(shop_url: str) -> Iterator[psycopg.Connection]:
    with db.connect(shop_url) as conn:
        # Open the transaction here: `with conn.transaction()` blocks in the code under
        # test then become savepoints inside it, and the rollback below undoes them too.
        conn.execute("SELECT 1")
        yield conn
        conn.rollback()  # whatever a test changed in the shop, it does not keep


@pytest.fixture
def connect(shop_url: str) -> db.Connect:
    return db.connector(shop_url)


def _at(month: int, day: int, hour: int) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


def tiny_shop() -> Dataset:
    """3 customers, 4 products, 7 orders over three months of 2024.

    customer 1 Ada Lovelace (DE), 2 Grace Hopper (FR), 3 Alan Turing (DE).
    Order 4 is cancelled; revenue excludes it.
    """
    customers: list[Row] = []
    for i, country in ((1, "DE"), (2, "FR"), (3, "DE")):
        name, email = customer_identity(i)
        customers.append((i, email, name, country, datetime(2023, 6, i, tzinfo=UTC)))
    products: list[Row] = [
        (
            1,
            5,
            "Quiet Headphones 1",
            10000,
            _attrs("Acme", "black", 250, True, "bestseller", "gift"),
        ),
        (2, 5, "Classic Headphones 2", 5000, _attrs("Globex", "red", 300, False, "eco", "new")),
        (3, 7, "Pro Laptop 3", 150000, _attrs("Acme", "silver", 1400, True, "new", "refurbished")),
        (4, 12, "Compact Grinder 4", 3000, _attrs("Hooli", "red", 800, False, "eco", "gift")),
    ]
    # (order id, customer, status, when, [(product, quantity)])
    plan = [
        (1, 1, "delivered", _at(1, 5, 10), [(1, 1)]),
        (2, 2, "delivered", _at(1, 20, 12), [(2, 2), (4, 1)]),
        (3, 1, "delivered", _at(2, 3, 9), [(3, 1)]),
        (4, 3, "cancelled", _at(2, 10, 15), [(1, 2)]),
        (5, 1, "shipped", _at(3, 1, 8), [(4, 2)]),
        (6, 2, "pending", _at(3, 15, 18), [(2, 1), (1, 1)]),
        (7, 3, "delivered", _at(3, 20, 11), [(4, 1)]),
    ]
    price = {int(str(p[0])): int(str(p[3])) for p in products}
    orders: list[Row] = []
    items: list[Row] = []
    for order_id, customer, status, at, lines in plan:
        items += [(order_id, p, q, price[p]) for p, q in lines]
        orders.append((order_id, customer, status, at, sum(price[p] * q for p, q in lines)))
    data = Dataset()
    data.tables = {
        "categories": list(dataset.CATEGORIES),
        "customers": customers,
        "products": products,
        "orders": orders,
        "order_items": items,
        "reviews": [
            (1, 1, 2, 5, "Sound is crisp and battery lasts for days."),
            (2, 1, 3, 2, "Stopped charging and runs hot."),
            (3, 2, 1, 4, "Battery lasts for days and shipping was fast."),
        ],
        "rooms": [(1, "Room 1"), (2, "Room 2")],
        "bookings": [],
    }
    return data


def _attrs(brand: str, color: str, grams: int, wireless: bool, *tags: str) -> str:
    specs = {"weight_g": grams, "wireless": wireless}
    return json.dumps({"brand": brand, "color": color, "specs": specs, "tags": list(tags)})
