"""Unit tier, no server: the generator, the URL helpers and the plan reader."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import cast

import pytest
from psycopg.types.range import Range
from pydantic import ValidationError

from shopdb import dataset, plans
from shopdb.settings import (
    Settings,
    database_name,
    libpq_url,
    masked,
    settings_error,
    with_database,
)


def test_same_seed_same_shop_other_seed_other_shop() -> None:
    assert dataset.generate(1, seed=1).tables == dataset.generate(1, seed=1).tables
    assert dataset.generate(1, seed=1).tables != dataset.generate(1, seed=2).tables


def test_sizes_grow_with_scale() -> None:
    data = dataset.generate(2)

    assert data.count("customers") == 1000
    assert data.count("products") == 1000
    assert data.count("orders") == 10_000
    assert data.count("reviews") == 2000


def test_order_totals_are_the_sum_of_their_items() -> None:
    data = dataset.generate(1)
    sums: Counter[object] = Counter()
    for order_id, _product, quantity, price in data.tables["order_items"]:
        sums[order_id] += int(str(quantity)) * int(str(price))

    assert all(sums[o[0]] == o[4] for o in data.tables["orders"])


def test_orders_are_time_ordered_as_brin_needs() -> None:
    times = [cast(datetime, o[3]) for o in dataset.generate(1).tables["orders"]]

    assert times == sorted(times)


def test_status_mix_is_skewed() -> None:
    statuses = Counter(o[2] for o in dataset.generate(2).tables["orders"])

    assert statuses["delivered"] > 0.8 * 10_000
    assert 0.01 * 10_000 < statuses["cancelled"] < 0.04 * 10_000


def test_generated_bookings_never_overlap() -> None:
    by_room: dict[object, list[tuple[datetime, datetime]]] = {}
    for room, _guest, during in dataset.generate(1).tables["bookings"]:
        stay = cast(Range[datetime], during)
        assert stay.lower is not None and stay.upper is not None
        by_room.setdefault(room, []).append((stay.lower, stay.upper))
    for stays in by_room.values():
        stays.sort()
        assert all(a[1] <= b[0] for a, b in zip(stays, stays[1:], strict=False))


def test_customer_identity_is_predictable() -> None:
    assert dataset.customer_identity(3) == ("Alan Turing", "Alan.Turing3@Example.test")


def test_scale_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        dataset.generate(0)


def test_urls_for_libpq() -> None:
    url = "postgresql+psycopg://postgres:secret@db.local:5433/lessons"

    assert libpq_url(url) == "postgresql://postgres:secret@db.local:5433/lessons"
    assert with_database(url, "postgres") == "postgresql://postgres:secret@db.local:5433/postgres"
    assert database_name(url) == "lessons"
    assert masked(url) == "postgresql+psycopg://postgres:***@db.local:5433/lessons"


def test_a_non_postgres_url_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a postgresql:// URL"):
        libpq_url("sqlite:///var/shop.db")


def test_a_bad_url_setting_is_named_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:s3cret@h:5432")

    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]

    message = settings_error(caught.value)
    assert message == "DATABASE_URL names no database (expected .../lessons)"
    assert "s3cret" not in message


def test_a_scale_out_of_range_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASET_SCALE", "201")

    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings_error(caught.value).startswith("DATASET_SCALE: Input should be less than")


PLAN = {
    "Plan": {
        "Node Type": "Limit",
        "Plan Rows": 5,
        "Actual Rows": 5,
        "Shared Hit Blocks": 6,
        "Shared Read Blocks": 1,
        "Plans": [
            {
                "Node Type": "Index Scan",
                "Index Name": "orders_customer_recent_idx",
                "Relation Name": "orders",
                "Plan Rows": 10,
                "Actual Rows": 5,
            }
        ],
    },
    "Execution Time": 0.042,
}


def test_plan_reader_walks_the_tree() -> None:
    assert plans.node_types(PLAN) == ["Limit", "Index Scan"]
    assert plans.index_scans(PLAN) == {"orders_customer_recent_idx": "Index Scan"}
    assert plans.seq_scanned(PLAN) == set()
    assert plans.buffers(PLAN) == 7


def test_plan_summary_reads_like_explain() -> None:
    assert plans.summary(PLAN) == [
        "Limit  est=5 actual=5",
        "  -> Index Scan using orders_customer_recent_idx on orders  est=10 actual=5",
        "execution 0.04 ms, 7 buffers",
    ]
