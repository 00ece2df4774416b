"""Row locks held until commit, and the deadlock they make when taken in opposite orders.

Unlike the isolation demos, this one cannot be a single-threaded sequence of steps: a
session asking for a row another one has locked blocks until that one commits or rolls
back. So one session waits in a thread, and the main thread polls pg_stat_activity until
it really waits on a lock before closing the cycle. PostgreSQL finds the cycle after
deadlock_timeout and aborts one of the two; which one is its choice, so callers may rely
only on "one committed, one was the victim".
"""

from __future__ import annotations

import threading
import time

import psycopg
from psycopg import errors
from psycopg.rows import tuple_row

from .db import Connect

LOCK_FIRST = "UPDATE accounts SET balance_cents = balance_cents + 1 WHERE id = %s"
LOCK_SECOND = "UPDATE accounts SET balance_cents = 0 WHERE id = %s"

# The interleaving as the statements the two sessions send, in order (what `main.py tour`
# prints; deadlock() runs exactly these).
STEPS = {
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
