"""The schema enforces its rules in the database itself, identically on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shop.models import Category, Customer, Order, OrderLine, Product


def _fails(session_factory: sessionmaker[Session], *objects: object) -> None:
    with pytest.raises(IntegrityError), session_factory.begin() as session:
        session.add_all(objects)


def test_unique_email(session_factory: sessionmaker[Session], catalog: dict[str, int]) -> None:
    _fails(session_factory, Customer(email="ada@example.test", name="Second Ada"))


@pytest.mark.parametrize(
    "bad",
    [
        {"price_cents": -1, "stock": 1},
        {"price_cents": 100, "stock": -5},
    ],
)
def test_product_checks(session_factory: sessionmaker[Session], bad: dict[str, int]) -> None:
    _fails(session_factory, Product(sku="BAD", name="Bad", **bad))


def test_order_checks(session_factory: sessionmaker[Session], catalog: dict[str, int]) -> None:
    with session_factory() as session:
        ada = session.scalars(select(Customer).filter_by(email="ada@example.test")).one()
        mug = session.get_one(Product, catalog["MUG"])
        session.expunge_all()
    _fails(session_factory, Order(customer_id=ada.id, status="lost"))
    _fails(
        session_factory,
        Order(
            customer_id=ada.id, lines=[OrderLine(product_id=mug.id, quantity=0, unit_price_cents=1)]
        ),
    )


def test_server_defaults_filled_by_the_database(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        customer = Customer(email="new@example.test", name="New")
        product = Product(sku="NEW", name="New", price_cents=100)
        order = Order(customer=customer)
        session.add_all([customer, product, order])
        session.flush()
        ids = (customer.id, product.id, order.id)
    with session_factory() as session:
        stored_order = session.get_one(Order, ids[2])
        assert stored_order.status == "open"
        assert stored_order.created_at is not None
        assert session.get_one(Customer, ids[0]).created_at is not None
        assert session.get_one(Product, ids[1]).stock == 0


def _order_for_ada(session: Session, catalog: dict[str, int]) -> int:
    ada = session.scalars(select(Customer).filter_by(email="ada@example.test")).one()
    order = Order(
        customer=ada, lines=[OrderLine(product_id=catalog["MUG"], quantity=1, unit_price_cents=900)]
    )
    session.add(order)
    session.flush()
    return order.id


def test_deleting_a_customer_cascades_in_the_database(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory.begin() as session:
        _order_for_ada(session, catalog)
    # A Core DELETE bypasses the ORM's cascade: only ON DELETE CASCADE can clean up.
    with session_factory.begin() as session:
        session.execute(delete(Customer).where(Customer.email == "ada@example.test"))
    with session_factory() as session:
        assert session.scalars(select(Order)).all() == []
        assert session.scalars(select(OrderLine)).all() == []


def test_a_sold_product_cannot_be_deleted(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory.begin() as session:
        _order_for_ada(session, catalog)
    with pytest.raises(IntegrityError), session_factory.begin() as session:
        session.execute(delete(Product).where(Product.id == catalog["MUG"]))


def test_deleting_a_category_orphans_children_and_products(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory.begin() as session:
        session.execute(delete(Category).where(Category.name == "Camping"))
    with session_factory() as session:
        tents = session.scalars(select(Category).filter_by(name="Tents")).one()
        assert tents.parent is None
        assert session.get_one(Product, catalog["TENT-2P"]).category is None
        outdoors = session.scalars(select(Category).filter_by(name="Outdoors")).one()
        assert [c.name for c in outdoors.children] == ["Climbing"]


def test_self_referential_relation(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        stoves = session.scalars(select(Category).filter_by(name="Stoves")).one()
        assert stoves.parent is not None and stoves.parent.name == "Camping"
        assert stoves.parent.parent is not None and stoves.parent.parent.name == "Outdoors"
        assert {p.sku for p in stoves.products} == {"STOVE-GAS", "STOVE-WOOD"}


def test_constraint_names_follow_the_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    fks = {fk["name"] for fk in inspector.get_foreign_keys("shop_order_lines")}
    assert fks == {
        "fk_shop_order_lines_order_id_shop_orders",
        "fk_shop_order_lines_product_id_shop_products",
    }
    uniques = {uq["name"] for uq in inspector.get_unique_constraints("shop_customers")}
    assert uniques == {"uq_shop_customers_email"}
    checks = {ck["name"] for ck in inspector.get_check_constraints("shop_products")}
    assert checks == {"ck_shop_products_price_not_negative", "ck_shop_products_stock_not_negative"}
    indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("shop_products")}
    assert indexes["ix_shop_products_price_cents_id"] == ["price_cents", "id"]
    orders = {ix["name"] for ix in inspector.get_indexes("shop_orders")}
    assert orders == {"ix_shop_orders_customer_id"}
