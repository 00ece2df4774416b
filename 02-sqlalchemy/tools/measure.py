"""The measurements behind bench.py: each returns plain numbers, bench.py prints and plots them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from demo.seed import seed_customers_with_orders, seed_products
from shop import queries
from shop.db import count_statements, make_session_factory
from shop.loading import Strategy, order_counts
from shop.models import Base, Customer
from shop.pooling import make_pooled_engine, make_unpooled_engine


@dataclass
class Measured:
    case: str
    seconds: float  # median over the repeats
    statements: int = 0
    rows: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of `fn` after `warmup` unmeasured runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reset_schema(engine: Engine) -> None:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)


# N+1: the same question answered with three loading strategies.


def loading(engine: Engine, customers: int, orders_each: int, repeats: int) -> list[Measured]:
    reset_schema(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_customers_with_orders(session, customers, orders_each)
    results = []
    strategies: tuple[Strategy, ...] = ("lazy", "selectinload", "joinedload")
    for strategy in strategies:

        def run(strategy: Strategy = strategy) -> None:
            with factory() as session:  # a fresh session: no identity-map hits between runs
                order_counts(session, strategy)

        with count_statements(engine) as log:
            run()
        results.append(Measured(strategy, median_time(run, repeats), statements=log.count))
    return results


# Inserting rows: four ways, from one commit per row to one Core executemany.


def _customer_rows(n: int, tag: str) -> list[dict[str, str]]:
    return [{"email": f"{tag}{i}@bench.test", "name": f"Customer {i}"} for i in range(n)]


def inserts(engine: Engine, rows: int, per_row_rows: int, repeats: int) -> list[Measured]:
    reset_schema(engine)
    factory = make_session_factory(engine)
    customers = Base.metadata.tables[Customer.__tablename__]  # the Core Table behind the class
    counter = iter(range(1_000_000))

    def clear() -> None:
        with engine.begin() as conn:
            conn.execute(delete(Customer))

    def per_row_commit(n: int) -> Callable[[], None]:
        def run() -> None:
            tag = f"r{next(counter)}-"
            with factory() as session:
                for row in _customer_rows(n, tag):
                    session.add(Customer(**row))
                    session.commit()  # one transaction (and one disk sync) per row

        return run

    def orm_one_commit() -> None:
        tag = f"o{next(counter)}-"
        with factory.begin() as session:
            session.add_all([Customer(**row) for row in _customer_rows(rows, tag)])

    def orm_bulk_insert() -> None:
        tag = f"b{next(counter)}-"
        with factory.begin() as session:
            session.execute(insert(Customer), _customer_rows(rows, tag))

    def core_executemany() -> None:
        tag = f"c{next(counter)}-"
        with engine.begin() as conn:
            conn.execute(customers.insert(), _customer_rows(rows, tag))

    cases: list[tuple[str, Callable[[], None], int]] = [
        ("add + commit per row", per_row_commit(per_row_rows), per_row_rows),
        ("add_all, one commit", orm_one_commit, rows),
        ("insert(Model), list of dicts", orm_bulk_insert, rows),
        ("Core insert executemany", core_executemany, rows),
    ]
    results = []
    for name, fn, n in cases:
        # Each run starts from an empty table; clearing is not timed.
        times = []
        for i in range(repeats + 1):
            clear()
            start = time.perf_counter()
            fn()
            if i:  # the first run is the warm-up
                times.append(time.perf_counter() - start)
        results.append(Measured(name, statistics.median(times), rows=n))
    clear()
    return results


# Connection checkout: a pooled engine against NullPool.


def checkout_engines(url: URL) -> list[tuple[str, Engine]]:
    """The engines the checkout comparison runs, each fresh.

    NullPool never pings: every connection it hands out is brand new. So the pool it is
    compared with does not ping either; a pre-pinging pool pays one more round trip per
    checkout, and gets a row of its own so that price is visible rather than hidden.
    """
    return [
        ("QueuePool", make_pooled_engine(url, size=5, overflow=0, pre_ping=False)),
        ("QueuePool + pre_ping", make_pooled_engine(url, size=5, overflow=0, pre_ping=True)),
        ("NullPool", make_unpooled_engine(url)),
    ]


def checkout(url: URL, requests: int, repeats: int) -> list[Measured]:
    """Median latency of one 'request': check out a connection, SELECT 1, give it back."""
    results = []
    for name, engine in checkout_engines(url):
        latencies: list[float] = []
        try:
            for i in range(repeats + 1):
                for _ in range(requests):
                    start = time.perf_counter()
                    with engine.connect() as conn:
                        conn.exec_driver_sql("SELECT 1").scalar_one()
                    if i:
                        latencies.append(time.perf_counter() - start)
        finally:
            engine.dispose()
        results.append(Measured(name, statistics.median(latencies), rows=requests))
    return results


# Pagination: OFFSET against keyset, on the first page and on a deep one.

PAGE_FETCHES = 20  # one page takes well under a millisecond: time a batch, report per page


def pagination(engine: Engine, products: int, size: int, repeats: int) -> list[Measured]:
    """Median time to fetch one page of `size` products, page 1 and the last full page."""
    reset_schema(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_products(session, products)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE shop_products")  # the statistics a live table would have
    deep = products // size - 1  # 0-based number of the last full page
    with factory() as session:
        cursor = queries.keyset_cursor(queries.products_page_offset(session, deep - 1, size))
        by_offset = [p.id for p in queries.products_page_offset(session, deep, size)]
        by_keyset = [p.id for p in queries.products_page_keyset(session, cursor, size)]
    # Two queries that return different rows are not two ways of doing the same job.
    if by_offset != by_keyset:
        raise RuntimeError(f"offset and keyset disagree on page {deep + 1}")

    def fetch(page: Callable[[Session], object]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(PAGE_FETCHES):
                with factory() as session:  # one request, one session
                    page(session)

        return run

    cases: list[tuple[str, Callable[[Session], object]]] = [
        ("keyset, page 1", lambda s: queries.products_page_keyset(s, None, size)),
        (f"keyset, page {deep + 1:,}", lambda s: queries.products_page_keyset(s, cursor, size)),
        ("offset, page 1", lambda s: queries.products_page_offset(s, 0, size)),
        (f"offset, page {deep + 1:,}", lambda s: queries.products_page_offset(s, deep, size)),
    ]
    return [
        Measured(name, median_time(fetch(page), repeats) / PAGE_FETCHES, rows=size)
        for name, page in cases
    ]
