"""Isolation levels, shown with two connections whose steps are interleaved by hand.

No sleeps and no threads (except for the deadlock, which needs a blocked session): the
interleaving is written out step by step, so each anomaly happens on every run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from psycopg import errors
from psycopg.rows import tuple_row

from .db import Connect

IsolationLevel = psycopg.IsolationLevel
T = TypeVar("T")

READ_BALANCE = "SELECT balance_cents FROM accounts WHERE id = 1"
WITHDRAW_3000 = "UPDATE accounts SET balance_cents = balance_cents - 3000 WHERE id = 1"
WRITE_BALANCE = "UPDATE accounts SET balance_cents = %s WHERE id = 1"
COUNT_ON_CALL = "SELECT count(*) FROM on_call WHERE on_call"
GO_OFF_CALL = "UPDATE on_call SET on_call = false WHERE doctor = %s"
LOCK_FIRST = "UPDATE accounts SET balance_cents = balance_cents + 1 WHERE id = %s"
LOCK_SECOND = "UPDATE accounts SET balance_cents = 0 WHERE id = %s"

# Each demo's interleaving as the statements the two sessions send, in order (what
# `main.py tour` prints; the functions below run exactly these).
STEPS = {
    "non_repeatable_read": f"""
-- reader: BEGIN ISOLATION LEVEL <level>
{READ_BALANCE};
-- writer
{WITHDRAW_3000}; COMMIT;
-- reader: the same SELECT again
{READ_BALANCE};""",
    "lost_update": f"""
-- a and b: BEGIN ISOLATION LEVEL <level>; both read the balance
{READ_BALANCE};
-- a: computes 10000 - 3000 in Python
{WRITE_BALANCE % 7000}; COMMIT;
-- b: computes 10000 - 5000 from its own, now stale, read
{WRITE_BALANCE % 5000}; COMMIT;""",
    "write_skew": f"""
-- alice and bob: BEGIN ISOLATION LEVEL <level>; both count 2 on call
{COUNT_ON_CALL};
-- alice
{GO_OFF_CALL % "'alice'"}; COMMIT;
-- bob
{GO_OFF_CALL % "'bob'"}; COMMIT;""",
    "deadlock": f"""
-- a
{LOCK_FIRST % 1};
-- b
{LOCK_FIRST % 2};
-- a: waits for b's row 2
{LOCK_SECOND % 2};
-- b: waits for a's row 1 - a cycle, found after deadlock_timeout
{LOCK_SECOND % 1};""",
}


def reset_account(conn: psycopg.Connection, balance_cents: int = 10_000) -> None:
    with conn.transaction():
        conn.execute("DELETE FROM accounts")
        conn.execute("INSERT INTO accounts VALUES (1, 'alice', %s)", (balance_cents,))


def _balance(conn: psycopg.Connection) -> int:
    row = conn.execute(READ_BALANCE).fetchone()
    if row is None:
        raise LookupError("account 1 is missing: reset_account() first")
    return int(row[0])


def non_repeatable_read(connect: Connect, level: IsolationLevel) -> tuple[int, int]:
    """Read the same row twice in one transaction while another one commits a change.

    READ COMMITTED takes a new snapshot per statement: the second read sees the change.
    REPEATABLE READ keeps the snapshot of its first statement: both reads agree.
    """
    with connect() as setup:
        reset_account(setup)
    with connect() as reader, connect() as writer:
        reader.isolation_level = level
        first = _balance(reader)  # the transaction (and, for RR, its snapshot) starts here
        writer.execute(WITHDRAW_3000)
        writer.commit()
        second = _balance(reader)
        reader.rollback()
    return first, second


def lost_update(connect: Connect, level: IsolationLevel) -> int:
    """Two read-modify-write withdrawals computed in Python from the same read.

    READ COMMITTED lets the second UPDATE overwrite the first (the 3,000 withdrawal is
    lost); REPEATABLE READ refuses it with SerializationFailure, which the caller must
    retry. Returns the final balance. The fixes at any level: let the database do the
    arithmetic (`SET balance_cents = balance_cents - 5000`), or read with FOR UPDATE.
    """
    with connect() as setup:
        reset_account(setup)
    with connect() as a, connect() as b:
        a.isolation_level = b.isolation_level = level
        seen_a, seen_b = _balance(a), _balance(b)
        a.execute(WRITE_BALANCE, (seen_a - 3_000,))
        a.commit()
        try:
            b.execute(WRITE_BALANCE, (seen_b - 5_000,))
            b.commit()
        except errors.SerializationFailure:
            b.rollback()
            raise
        return _balance(a)


@dataclass(frozen=True)
class WriteSkew:
    committed: list[str]
    failed: list[str]
    on_call_after: int


def reset_on_call(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("DELETE FROM on_call")
        conn.execute("INSERT INTO on_call VALUES ('alice', true), ('bob', true)")


def count_on_call(conn: psycopg.Connection) -> int:
    row = conn.execute(COUNT_ON_CALL).fetchone()
    return int(row[0]) if row else 0


def go_off_call(conn: psycopg.Connection, doctor: str) -> bool:
    """The rule: a doctor may leave only while someone else stays on call."""
    if count_on_call(conn) < 2:
        return False
    conn.execute(GO_OFF_CALL, (doctor,))
    return True


def write_skew(connect: Connect, level: IsolationLevel) -> WriteSkew:
    """Alice and Bob both check "two on call", then each leaves. Each write alone keeps
    the rule; together they break it. Only SERIALIZABLE sees the two reads conflict."""
    with connect() as setup:
        reset_on_call(setup)
    committed: list[str] = []
    failed: list[str] = []
    with connect() as alice, connect() as bob:
        alice.isolation_level = bob.isolation_level = level
        seen = {"alice": count_on_call(alice), "bob": count_on_call(bob)}  # both read 2
        for name, conn in (("alice", alice), ("bob", bob)):
            try:
                if seen[name] >= 2:
                    conn.execute(GO_OFF_CALL, (name,))
                conn.commit()
                committed.append(name)
            except errors.SerializationFailure:
                conn.rollback()
                failed.append(name)
        left = count_on_call(alice)
        alice.rollback()
    return WriteSkew(committed, failed, left)


def run_serializable(
    conn: psycopg.Connection, work: Callable[[psycopg.Connection, int], T], attempts: int = 5
) -> tuple[T, int]:
    """Run `work` in a SERIALIZABLE transaction, again from the start on a serialization
    failure. The whole transaction is retried - reads included - because the decision it
    made was based on a snapshot that turned out to be stale. Returns (result, attempt).

    `conn` must be idle (no open transaction): the isolation level can only be chosen
    before a transaction starts. It is restored afterwards.
    """
    previous = conn.isolation_level
    conn.isolation_level = IsolationLevel.SERIALIZABLE
    try:
        for attempt in range(1, attempts + 1):
            try:
                with conn.transaction():
                    return work(conn, attempt), attempt
            except errors.SerializationFailure:
                if attempt == attempts:
                    raise
                # Jittered backoff, so two retrying clients do not collide again in lockstep.
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise AssertionError("unreachable: the loop returns or raises")
    finally:
        conn.isolation_level = previous


# How long the deadlock demo waits for something that normally takes milliseconds (a
# session to block, a thread to finish) before calling it a failure. Generous, because on a
# busy machine a thread may not be scheduled for seconds; polling returns as soon as the
# condition holds, so a healthy run never waits for it.
PATIENCE_S = 60.0


def deadlock(connect: Connect, patience: float = PATIENCE_S) -> dict[str, str]:
    """Two sessions lock rows 1 and 2 in opposite orders. PostgreSQL notices the cycle
    after deadlock_timeout and aborts one of them; the other goes on.

    Returns {"a": "committed" | "deadlock", "b": ...}.
    """
    with connect() as setup, setup.transaction():
        setup.execute("DELETE FROM accounts")
        setup.execute("INSERT INTO accounts VALUES (1, 'alice', 100), (2, 'bob', 100)")
    outcome: dict[str, str] = {}
    failed: list[BaseException] = []
    a, b = connect(), connect()
    try:
        for conn in (a, b):
            _wait_for_deadlock_detection(conn)
        # Whichever session waits deadlock_timeout first finds the cycle: allow for it.
        detection_s = _deadlock_timeout_s(a)
        a.execute(LOCK_FIRST, (1,))
        b.execute(LOCK_FIRST, (2,))
        a_pid = a.info.backend_pid

        def a_second_step() -> None:
            try:
                outcome["a"] = _finish(a, LOCK_SECOND, 2)
            except BaseException as exc:  # re-raised below: not lost with the thread
                failed.append(exc)

        waiter = threading.Thread(target=a_second_step)
        waiter.start()  # a now waits for b's lock on row 2
        with connect() as watcher:
            _wait_until_blocked(watcher, a_pid, patience)
        outcome["b"] = _finish(b, LOCK_SECOND, 1)
        waiter.join(timeout=patience + detection_s)
        if waiter.is_alive():
            # Cancel a's statement first: closing a connection another thread is using
            # is not safe, cancelling its query is.
            a.cancel_safe()
            waiter.join(timeout=patience)
            raise TimeoutError(f"session {a_pid} was still waiting after {patience:g} s")
        if failed:
            raise failed[0]
    finally:
        a.close()
        b.close()
    return outcome


def _wait_for_deadlock_detection(conn: psycopg.Connection) -> None:
    """Let the lock waits end only by deadlock detection.

    A server may set lock_timeout or statement_timeout for everyone (managed servers
    often do): either could end a's wait before the deadlock check runs, and the demo
    would show a timeout instead of a deadlock. Any user may turn them off for a session.
    deadlock_timeout is 1 s by default and only a superuser may lower it; without the
    right it stays as the server has it.
    """
    conn.execute("SET lock_timeout = 0")
    conn.execute("SET statement_timeout = 0")
    conn.commit()
    try:
        conn.execute("SET deadlock_timeout = '100ms'")
        conn.commit()
    except errors.InsufficientPrivilege:
        conn.rollback()


def _deadlock_timeout_s(conn: psycopg.Connection) -> float:
    row = conn.execute(
        "SELECT setting::float / 1000 FROM pg_settings WHERE name = 'deadlock_timeout'"
    ).fetchone()
    conn.rollback()
    return float(row[0]) if row else 1.0


def _finish(conn: psycopg.Connection, statement: str, row_id: int) -> str:
    try:
        conn.execute(statement, (row_id,))  # constants from this module
        conn.commit()
        return "committed"
    except errors.DeadlockDetected:
        conn.rollback()
        return "deadlock"


def _wait_until_blocked(watcher: psycopg.Connection, pid: int, timeout: float) -> None:
    """Poll pg_stat_activity until `pid` waits on a lock: a condition, not a fixed sleep."""
    watcher.autocommit = True
    deadline = time.monotonic() + timeout
    cur = watcher.cursor(row_factory=tuple_row)
    while time.monotonic() < deadline:
        row = cur.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise TimeoutError(f"session {pid} never waited on a lock within {timeout:g} s")
