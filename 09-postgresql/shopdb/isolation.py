"""Isolation levels, shown with two connections whose steps are interleaved by hand.

No sleeps and no threads: the interleaving is written out step by step, so each anomaly
happens on every run. The deadlock cannot be written that way (one session must really
sit blocked on another's row lock), so it lives apart, in locking.py.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from psycopg import errors

from .db import Connect

IsolationLevel = psycopg.IsolationLevel
T = TypeVar("T")

READ_BALANCE = "SELECT balance_cents FROM accounts WHERE id = 1"
WITHDRAW_3000 = "UPDATE accounts SET balance_cents = balance_cents - 3000 WHERE id = 1"
WRITE_BALANCE = "UPDATE accounts SET balance_cents = %s WHERE id = 1"
COUNT_ON_CALL = "SELECT count(*) FROM on_call WHERE on_call"
GO_OFF_CALL = "UPDATE on_call SET on_call = false WHERE doctor = %s"

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
