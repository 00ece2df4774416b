"""The domain service: unit tests on a fake repository, then the same rules on real databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shop.errors import EmailTaken, EmptyOrder, OutOfStock, UnknownCustomer, UnknownProducts
from shop.models import Customer, Order, Product
from shop.repository import SqlAlchemyShopRepository
from shop.services import place_order, register_customer
from tests.conftest import stock_of
from tests.fakes import FakeShopRepository


@pytest.fixture
def fake() -> FakeShopRepository:
    return FakeShopRepository(
        products=[
            Product(sku="MUG", name="Mug", price_cents=900, stock=3),
            Product(sku="LAMP", name="Lamp", price_cents=3500, stock=1),
        ],
        customers=[Customer(email="ada@example.test", name="Ada")],
    )


def test_order_copies_prices_and_takes_stock(fake: FakeShopRepository) -> None:
    order = place_order(fake, "ADA@example.test ", {"MUG": 2, "LAMP": 1})
    assert [(li.product.sku, li.quantity, li.unit_price_cents) for li in order.lines] == [
        ("LAMP", 1, 3500),
        ("MUG", 2, 900),
    ]
    assert order.total_cents == 2 * 900 + 3500
    assert (fake.products["MUG"].stock, fake.products["LAMP"].stock) == (1, 0)
    assert fake.orders == [order]


def test_out_of_stock_changes_nothing(fake: FakeShopRepository) -> None:
    with pytest.raises(OutOfStock) as caught:
        place_order(fake, "ada@example.test", {"MUG": 1, "LAMP": 2})
    assert (caught.value.sku, caught.value.wanted, caught.value.available) == ("LAMP", 2, 1)
    assert fake.products["MUG"].stock == 3  # checked before anything was taken
    assert fake.orders == []


@pytest.mark.parametrize(
    ("email", "items", "error"),
    [
        ("nobody@example.test", {"MUG": 1}, UnknownCustomer),
        ("ada@example.test", {"MUG": 1, "GHOST": 1, "ALSO-GHOST": 2}, UnknownProducts),
        ("ada@example.test", {}, EmptyOrder),
        ("ada@example.test", {"MUG": 0}, EmptyOrder),
        ("ada@example.test", {"MUG": -2}, EmptyOrder),
    ],
)
def test_bad_orders_are_refused(
    fake: FakeShopRepository, email: str, items: dict[str, int], error: type[Exception]
) -> None:
    with pytest.raises(error):
        place_order(fake, email, items)
    assert fake.orders == []


def test_unknown_products_are_all_named(fake: FakeShopRepository) -> None:
    with pytest.raises(UnknownProducts) as caught:
        place_order(fake, "ada@example.test", {"MUG": 1, "GHOST": 1, "ALSO-GHOST": 2})
    assert caught.value.skus == ["ALSO-GHOST", "GHOST"]


def test_register_normalises_and_refuses_duplicates(fake: FakeShopRepository) -> None:
    customer = register_customer(fake, "  Grace@Example.TEST", " Grace ")
    assert (customer.email, customer.name) == ("grace@example.test", "Grace")
    with pytest.raises(EmailTaken):
        register_customer(fake, "grace@example.test", "Other Grace")


# The same service on the SQLAlchemy repository, on both databases.


def test_order_is_persisted_with_stock_taken(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory.begin() as session:
        order = place_order(SqlAlchemyShopRepository(session), "ada@example.test", {"MUG": 4})
        session.flush()
        order_id = order.id
    with session_factory() as session:
        stored = session.get_one(Order, order_id)
        assert [(li.product.sku, li.quantity, li.unit_price_cents) for li in stored.lines] == [
            ("MUG", 4, 900)
        ]
        assert stored.status == "open"  # server default
        assert stock_of(session, "MUG") == 96


def test_refused_order_rolls_back_everything(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with pytest.raises(OutOfStock), session_factory.begin() as session:
        place_order(SqlAlchemyShopRepository(session), "ada@example.test", {"TENT-4P": 3})
    with session_factory() as session:
        assert stock_of(session, "TENT-4P") == 2
        assert session.scalars(select(Order)).all() == []
