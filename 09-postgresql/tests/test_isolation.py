"""Isolation anomalies, each reproduced by interleaving two connections step by step."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors

from shopdb import db, isolation
from shopdb.isolation import IsolationLevel

Work = Callable[[psycopg.Connection, int], bool]

pytestmark = pytest.mark.postgres


def test_read_committed_sees_a_commit_between_two_reads(connect: db.Connect) -> None:
    assert isolation.non_repeatable_read(connect, IsolationLevel.READ_COMMITTED) == (10000, 7000)


def test_repeatable_read_keeps_its_first_snapshot(connect: db.Connect) -> None:
    assert isolation.non_repeatable_read(connect, IsolationLevel.REPEATABLE_READ) == (10000, 10000)


def test_read_committed_loses_an_update(connect: db.Connect) -> None:
    # 10000 - 3000 - 5000 should be 2000; the second write was computed from a stale read.
    assert isolation.lost_update(connect, IsolationLevel.READ_COMMITTED) == 5000


def test_repeatable_read_refuses_the_stale_write(connect: db.Connect) -> None:
    with pytest.raises(errors.SerializationFailure):
        isolation.lost_update(connect, IsolationLevel.REPEATABLE_READ)

    with connect() as conn:
        assert conn.execute(isolation.READ_BALANCE).fetchone() == (7000,)  # first write kept


def test_repeatable_read_allows_write_skew(connect: db.Connect) -> None:
    outcome = isolation.write_skew(connect, IsolationLevel.REPEATABLE_READ)

    assert outcome == isolation.WriteSkew(["alice", "bob"], [], on_call_after=0)


def test_serializable_refuses_the_second_writer(connect: db.Connect) -> None:
    outcome = isolation.write_skew(connect, IsolationLevel.SERIALIZABLE)

    assert outcome == isolation.WriteSkew(["alice"], ["bob"], on_call_after=1)


def _bob_leaves(connect: db.Connect, interrupters: list[str]) -> Work:
    """Bob's unit of work: go off call if at least two are on call. During attempt n,
    interrupters[n-1] goes off call and commits between Bob's read and Bob's write - the
    interleaving that makes Bob's decision stale."""

    def work(conn: psycopg.Connection, attempt: int) -> bool:
        on_call = isolation.count_on_call(conn)
        if attempt <= len(interrupters):
            with connect() as other:
                other.isolation_level = IsolationLevel.SERIALIZABLE
                assert isolation.go_off_call(other, interrupters[attempt - 1])
        if on_call < 2:
            return False
        conn.execute("UPDATE on_call SET on_call = false WHERE doctor = 'bob'")
        return True

    return work


def test_retry_loop_reruns_the_transaction_on_fresh_data(connect: db.Connect) -> None:
    with connect() as setup:
        isolation.reset_on_call(setup)  # alice and bob on call

    with connect() as bob:
        left, attempt = isolation.run_serializable(bob, _bob_leaves(connect, ["alice"]))

    # Attempt 1 failed; attempt 2 saw Alice gone and kept Bob on call.
    assert (left, attempt) == (False, 2)
    with connect() as conn:
        assert conn.execute("SELECT doctor FROM on_call WHERE on_call").fetchall() == [("bob",)]


def test_retry_loop_gives_up_after_its_attempts(connect: db.Connect) -> None:
    with connect() as setup:
        isolation.reset_on_call(setup)
        setup.execute("INSERT INTO on_call VALUES ('carol', true), ('dave', true)")
        setup.commit()

    with connect() as bob, pytest.raises(errors.SerializationFailure):
        isolation.run_serializable(bob, _bob_leaves(connect, ["alice", "carol"]), attempts=2)

    with connect() as conn:
        rows = conn.execute("SELECT doctor FROM on_call WHERE on_call ORDER BY 1").fetchall()
    assert rows == [("bob",), ("dave",)]  # Bob's failed attempts left nothing behind
