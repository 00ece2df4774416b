"""What the Session does: flush vs commit, identity map, expiry, rollback, savepoints."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shop.db import count_statements, make_session_factory
from shop.errors import EmailTaken
from shop.importer import import_products
from shop.models import Customer, Product
from shop.repository import SqlAlchemyShopRepository
from shop.services import register_customer

COUNT_CUSTOMERS = select(func.count()).select_from(Customer)


def test_flush_sends_sql_but_only_commit_publishes(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as writer, session_factory() as reader:
        writer.add(Customer(email="ada@example.test", name="Ada"))
        writer.flush()
        ada = writer.scalars(select(Customer)).one()
        assert ada.id is not None  # the INSERT ran: the database assigned the key
        assert reader.scalar(COUNT_CUSTOMERS) == 0  # ...but inside writer's transaction only
        reader.rollback()  # end the reader's transaction (SQLite: release its read lock)
        writer.commit()
        assert reader.scalar(COUNT_CUSTOMERS) == 1


def test_identity_map_returns_the_same_object_without_sql(
    engine: Engine, session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        first = session.get_one(Product, catalog["MUG"])
        with count_statements(engine) as log:
            again = session.get_one(Product, catalog["MUG"])
            by_query = session.scalars(select(Product).where(Product.sku == "MUG")).one()
        assert again is first and by_query is first
        assert log.count == 1  # get() hit the map; only the query went to the database


def test_expire_on_commit_reloads_attributes(engine: Engine, catalog: dict[str, int]) -> None:
    for expire, expected in ((True, 1), (False, 0)):
        factory = make_session_factory(engine, expire_on_commit=expire)
        with factory() as session:
            mug = session.get_one(Product, catalog["MUG"])
            session.commit()
            with count_statements(engine) as log:
                assert mug.name == "Enamel mug"
            assert log.count == expected, f"expire_on_commit={expire}"


def test_expired_attribute_sees_other_sessions_changes(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        mug = session.get_one(Product, catalog["MUG"])
        session.commit()
        with session_factory.begin() as other:
            other.get_one(Product, catalog["MUG"]).price_cents = 1000
        assert mug.price_cents == 1000  # expired at commit, so reloaded, so current


def test_integrity_error_needs_a_rollback_then_the_session_works(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        session.add(Customer(email="ada@example.test", name="Duplicate"))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()  # mandatory: the failed transaction is over
        session.add(Customer(email="carol@example.test", name="Carol"))
        session.commit()
        assert session.scalar(COUNT_CUSTOMERS) == 3


def test_repository_turns_duplicates_into_a_domain_error_and_keeps_the_transaction(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    with session_factory() as session:
        repo = SqlAlchemyShopRepository(session)
        register_customer(repo, "carol@example.test", "Carol")  # in the outer transaction
        with pytest.raises(EmailTaken):
            register_customer(repo, "ada@example.test", "Duplicate")
        register_customer(repo, "dave@example.test", "Dave")
        session.commit()
    with session_factory() as session:
        emails = set(session.scalars(select(Customer.email)))
        assert emails == {
            "ada@example.test",
            "bob@example.test",
            "carol@example.test",
            "dave@example.test",
        }


def test_nested_rollback_keeps_outer_work(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        session.add(Customer(email="kept@example.test", name="Kept"))
        nested = session.begin_nested()
        session.add(Customer(email="undone@example.test", name="Undone"))
        session.flush()
        nested.rollback()
    with session_factory() as session:
        assert list(session.scalars(select(Customer.email))) == ["kept@example.test"]


def test_import_keeps_good_rows_and_reports_each_bad_one(
    session_factory: sessionmaker[Session], catalog: dict[str, int]
) -> None:
    rows = [
        {"sku": "BOTTLE", "name": "Bottle", "price_cents": 1500, "stock": 3},
        {"sku": "MUG", "name": "Second mug", "price_cents": 800, "stock": 1},
        {"sku": "FREE", "name": "Negative", "price_cents": -1, "stock": 1},
        {"sku": "GONE", "name": "Negative stock", "price_cents": 10, "stock": -1},
        {"sku": "SOCKS", "name": "Socks", "price_cents": 1800, "stock": 12},
    ]
    with session_factory.begin() as session:
        report = import_products(session, rows)
    assert report.imported == ["BOTTLE", "SOCKS"]
    assert report.rejected == [
        ("MUG", "uq_shop_products_sku"),
        ("FREE", "price_not_negative"),
        ("GONE", "stock_not_negative"),
    ]
    with session_factory() as session:
        skus = set(session.scalars(select(Product.sku)))
        assert {"BOTTLE", "SOCKS"} <= skus and not {"FREE", "GONE"} & skus
        assert session.scalars(select(Product).filter_by(sku="MUG")).one().name == "Enamel mug"
