"""The guided tour `python main.py` runs: each concept once, with the SQL it costs."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.schema import CreateTable

from demo.narrate import Narrator
from demo.seed import seed_catalog, seed_customers_with_orders
from shop import queries
from shop.db import make_session_factory
from shop.errors import EmailTaken, ShopError
from shop.importer import import_products
from shop.loading import STRATEGIES, order_counts
from shop.models import Base, Customer, OrderLine, Product
from shop.pooling import make_pooled_engine, watch_pool
from shop.repository import SqlAlchemyShopRepository
from shop.services import place_order, register_customer


def run_tour(engine: Engine, n: Narrator) -> None:
    factory = make_session_factory(engine)

    n.step("Schema: drop and create the tables (constraint names come from the convention)")
    Base.metadata.drop_all(engine)
    with n.sql(engine, "CREATE TABLE x5 + indexes"):
        Base.metadata.create_all(engine)
    ddl = str(CreateTable(Base.metadata.tables[OrderLine.__tablename__]).compile(engine))
    ddl = ddl.strip()
    for line in ddl.splitlines():
        n.say("  " + line.strip())

    n.step("Unit of work: one transaction for the whole catalog")
    with n.sql(engine, "6 categories + 12 products"), factory.begin() as session:
        seed_catalog(session)

    n.step("flush vs commit: flush sends SQL, only commit makes it visible to others")
    with factory() as writer, factory() as reader:
        ada = Customer(email="ada@example.test", name="Ada")
        writer.add(ada)
        # add() only registers the object: no SQL yet, so the database has not assigned an id.
        n.say(f"after add: ada.id = {ada.id}")
        with n.sql(engine, "flush"):
            writer.flush()
        count = select(func.count()).select_from(Customer)
        n.say(
            f"after flush: ada.id = {ada.id}; another session counts {reader.scalar(count)}"
            " customers"
        )
        reader.rollback()  # end the reader's snapshot so it can see the commit
        writer.commit()
        n.say(f"after commit: another session counts {reader.scalar(count)} customer(s)")

    n.step("Identity map: one object per row per session")
    with factory() as session:
        with n.sql(engine, "first get"):
            first = session.get(Customer, 1)
        with n.sql(engine, "second get: served from the identity map"):
            second = session.get(Customer, 1)
        n.say(f"same object: {first is second}")
        session.commit()
        with n.sql(engine, "expire_on_commit: reading an attribute reloads the row"):
            n.say(f"name after commit = {first.name if first else None}")

    n.step("IntegrityError becomes a domain error; the session stays usable")
    with factory() as session:
        repo = SqlAlchemyShopRepository(session)
        try:
            register_customer(repo, "ada@example.test", "Ada again")
        except EmailTaken as exc:
            n.say(f"EmailTaken: {exc}")
        register_customer(repo, "grace@example.test", "Grace")
        register_customer(repo, "linus@example.test", "Linus")
        session.commit()
        n.say(f"customers now: {session.scalar(select(func.count()).select_from(Customer))}")

    n.step("Savepoints: import a batch, keep the good rows, report the bad ones")
    rows = [
        {"sku": "BOTTLE", "name": "Water bottle", "price_cents": 1500, "stock": 30},
        {"sku": "MUG", "name": "Duplicate mug", "price_cents": 800, "stock": 1},
        {"sku": "FREEBIE", "name": "Negative price", "price_cents": -1, "stock": 1},
        {"sku": "SOCKS", "name": "Wool socks", "price_cents": 1800, "stock": 12},
    ]
    with n.sql(engine, "one SAVEPOINT per row"), factory.begin() as session:
        report = import_products(session, rows)
    n.say(f"imported {report.imported}")
    for sku, reason in report.rejected:
        n.say(f"rejected {sku}: {reason}")

    n.step("Repository + service: place orders (rejected ones change nothing)")
    attempts = [
        ("ada@example.test", {"TENT-2P": 1, "STOVE-GAS": 2}),
        ("grace@example.test", {"ROPE-60": 1, "HARNESS": 1, "CHALK": 3}),
        ("ada@example.test", {"MUG": 4}),
        ("grace@example.test", {"TENT-4P": 3}),
        ("nobody@example.test", {"MUG": 1}),
        ("ada@example.test", {"UNOBTAINIUM": 1}),
    ]
    for email, items in attempts:
        try:
            with factory.begin() as session:
                order = place_order(SqlAlchemyShopRepository(session), email, items)
                session.flush()
                n.say(f"order {order.id} for {email}: {order.total_cents} cents")
        except ShopError as exc:
            n.say(f"refused: {exc}")

    run_query_steps(engine, n)
    run_loading_steps(engine, n)


def run_query_steps(engine: Engine, n: Narrator) -> None:
    factory = make_session_factory(engine)
    with factory() as s:
        n.step("Queries: join + GROUP BY + HAVING, rows as tuples")
        with n.sql(engine):
            for email, cents in queries.revenue_by_customer(s, min_cents=10000):
                n.say(f"{email:<22} {cents:>7} cents")
        n.step("NOT EXISTS, rows as ORM objects (scalars)")
        with n.sql(engine):
            n.say(f"no orders yet: {[c.email for c in queries.customers_without_orders(s)]}")
        n.step("Subquery joined back, rows as mappings")
        with n.sql(engine):
            for row in queries.order_totals(s):
                n.say(str(dict(row)))
        n.step("Recursive CTE: a category and everything below it")
        with n.sql(engine):
            for name, depth in queries.category_subtree(s, "Outdoors"):
                n.say("  " * depth + name)
        n.step("Pagination: OFFSET vs keyset, 5 products a page")
        page = queries.products_page_keyset(s, None, 5)
        with n.sql(engine, "keyset page 2: WHERE (price, id) > cursor"):
            keyset = queries.products_page_keyset(s, queries.keyset_cursor(page), 5)
        with n.sql(engine, "offset page 2: OFFSET 5"):
            offset = queries.products_page_offset(s, 1, 5)
        n.say(
            f"same rows while nothing changes: {[p.sku for p in keyset] == [p.sku for p in offset]}"
        )


def run_loading_steps(engine: Engine, n: Narrator) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_customers_with_orders(session, customers=20, orders_each=3)
    for strategy in STRATEGIES[:3]:
        n.step(f"Loading {strategy}: how many orders has each customer?")
        with factory() as session, n.sql(engine, strategy) as log:
            counts = order_counts(session, strategy)
        n.say(f"{len(counts)} customers, {sum(counts.values())} orders, {log.count} statements")
    n.step("raiseload: a lazy load in an API path is an error, not a silent query")
    with factory() as session:
        try:
            order_counts(session, "raiseload")
        except InvalidRequestError as exc:
            n.say(f"InvalidRequestError: {str(exc).splitlines()[0][:90]}")

    n.step("Connection pool: size 2, no overflow, 0.2 s timeout")
    pooled = make_pooled_engine(engine.url, size=2, overflow=0, timeout=0.2)
    events = watch_pool(pooled)
    try:
        for _ in range(5):
            with pooled.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        n.say(
            f"5 requests: {events['connect']} connection(s) opened, {events['checkout']} checkouts"
        )
        held = [pooled.connect(), pooled.connect()]
        n.say(f"both held: {pooled.pool.status()}")
        try:
            pooled.connect()
        except PoolTimeout as exc:
            n.say(f"third checkout -> TimeoutError: {str(exc).splitlines()[0][:80]}")
        for conn in held:
            conn.close()
        n.say(f"returned: {pooled.pool.status()}")
    finally:
        pooled.dispose()
    with make_session_factory(engine)() as s:
        total = s.scalar(select(func.count()).select_from(Product))
    n.say(f"done: {total} products in the catalog")
