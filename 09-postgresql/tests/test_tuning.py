"""work_mem, statistics and the three ways of loading rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import psycopg
import pytest

from shopdb import dataset, db, loading, tuning
from shopdb.dataset import Row

Loader = Callable[[psycopg.Connection, str, Sequence[str], Iterable[Row]], None]

pytestmark = pytest.mark.postgres


def test_small_work_mem_spills_the_sort_to_disk(shop: psycopg.Connection) -> None:
    report = tuning.sort_with_work_mem(shop, "64kB")

    assert (report.method, report.space_type) == ("external merge", "Disk")


def test_enough_work_mem_sorts_in_memory(shop: psycopg.Connection) -> None:
    report = tuning.sort_with_work_mem(shop, "64MB")

    assert (report.method, report.space_type) == ("quicksort", "Memory")


def test_work_mem_is_restored_after_the_demo(connect: db.Connect) -> None:
    # A fresh session: the demo's transaction is a real one, and SET LOCAL ends with it.
    # (Inside a caller's open transaction it would last until that one ends.)
    with connect() as conn:
        before = conn.execute("SHOW work_mem").fetchone()
        conn.commit()

        tuning.sort_with_work_mem(conn, "64kB")

        assert conn.execute("SHOW work_mem").fetchone() == before


def test_analyze_turns_a_guess_into_a_count(shop: psycopg.Connection) -> None:
    est = tuning.statistics_demo(shop, rows=20_000)

    assert est.actual == 19_900  # every row but each 200th is 'common'
    assert est.before_analyze < est.actual / 10  # the default guess is far off
    assert est.after_analyze == est.actual  # all rows sampled: exact


@pytest.mark.parametrize(
    "load", [loading.copy_rows, loading.insert_executemany, loading.insert_row_by_row]
)
def test_every_loader_stores_the_same_rows(shop: psycopg.Connection, load: Loader) -> None:
    rows = dataset.generate(scale=1, seed=3).tables["products"][:300]
    columns = ("id", "category_id", "name", "price_cents", "attributes")
    shop.execute("CREATE TEMP TABLE load_target (LIKE products) ON COMMIT DROP")

    load(shop, "load_target", columns, rows)

    stored = shop.execute(
        "SELECT id, category_id, name, price_cents, attributes::text FROM load_target ORDER BY id"
    ).fetchall()
    expected = shop.execute(
        "SELECT r.id, r.category_id, r.name, r.price_cents, r.attributes::jsonb::text "
        "FROM unnest(%s::int[], %s::int[], %s::text[], %s::int[], %s::text[]) "
        "AS r(id, category_id, name, price_cents, attributes) ORDER BY r.id",
        [list(col) for col in zip(*rows, strict=True)],
    ).fetchall()
    assert len(stored) == 300
    assert stored == expected
