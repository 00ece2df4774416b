"""Row locks taken in opposite orders: PostgreSQL aborts exactly one of the two sessions."""

from __future__ import annotations

import psycopg
import pytest

from shopdb import db, locking
from shopdb.settings import libpq_url

pytestmark = pytest.mark.postgres


def test_deadlock_aborts_exactly_one_transaction(connect: db.Connect) -> None:
    outcome = locking.deadlock(connect)

    assert sorted(outcome.values()) == ["committed", "deadlock"]
    winner_set_to_zero = 2 if outcome["a"] == "committed" else 1
    with connect() as conn:
        rows: list[tuple[int, int]] = conn.execute(
            "SELECT id, balance_cents FROM accounts ORDER BY id"
        ).fetchall()
    # The winner's two updates both landed (+1 on its own row, 0 on the other's); the
    # victim's first update was rolled back with it.
    assert dict(rows)[winner_set_to_zero] == 0
    assert sorted(dict(rows).values()) == [0, 101]


def test_deadlock_is_detected_where_the_server_sets_a_lock_timeout(shop_url: str) -> None:
    # Managed servers often give every session a lock_timeout. Shorter than
    # deadlock_timeout, it would end the first wait before the deadlock check runs.
    def connect_with_lock_timeout() -> psycopg.Connection:
        return psycopg.connect(
            libpq_url(shop_url), options=f"{db.SESSION_OPTIONS} -c lock_timeout=10ms"
        )

    outcome = locking.deadlock(connect_with_lock_timeout)

    assert sorted(outcome.values()) == ["committed", "deadlock"]
