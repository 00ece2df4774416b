"""A job queue in a table: `FOR UPDATE SKIP LOCKED` lets many workers take jobs without
waiting for each other, and advisory locks give "only one of us runs this" without a table.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from .db import Connect

# This SELECT locks the oldest queued job nobody else holds; SKIP LOCKED means a
# worker never waits behind another one's job - it takes the next free one instead.
CLAIM = """
SELECT id, payload FROM jobs
WHERE status = 'queued'
ORDER BY id
FOR UPDATE SKIP LOCKED
LIMIT 1
"""

Handler = Callable[[dict[str, Any]], None]

# Advisory locks are keyed by a 64-bit number: hash the name to get one.
TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"


def enqueue(conn: psycopg.Connection, payloads: list[dict[str, Any]]) -> None:
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO jobs (payload) VALUES (%s)", [(Jsonb(p),) for p in payloads])
    conn.commit()


def reset(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE job_runs, jobs RESTART IDENTITY")
    conn.commit()


def work_one(conn: psycopg.Connection, worker: str, handler: Handler) -> int | None:
    """Claim, run and finish one job in ONE transaction; None when the queue is empty.

    If the handler raises or the worker dies, the transaction rolls back: the row lock is
    released and the job is 'queued' again for the next worker. Nothing is lost.
    """
    with conn.transaction():
        row = conn.execute(CLAIM).fetchone()
        if row is None:
            return None
        job_id, payload = row
        handler(payload)
        conn.execute("UPDATE jobs SET status = 'done' WHERE id = %s", (job_id,))
        conn.execute("INSERT INTO job_runs (job_id, worker) VALUES (%s, %s)", (job_id, worker))
    return int(job_id)


def drain(connect: Connect, worker: str, handler: Handler) -> int:
    """One worker: take jobs until none is left. Returns how many it ran."""
    done = 0
    with connect() as conn:
        while work_one(conn, worker, handler) is not None:
            done += 1
    return done


def run_workers(connect: Connect, workers: int, handler: Handler) -> Counter[str]:
    """`workers` threads, each with its own connection, drain the queue together."""
    counts: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        try:
            n = drain(connect, name, handler)
        except BaseException as exc:  # surfaced below: a dead worker must not pass silently
            errors.append(exc)
            return
        with lock:
            counts[name] += n

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        # Raise the first with its own type (callers catch psycopg errors), and name every
        # other failure on it: several workers failing at once is a clue, not noise.
        first = errors[0]
        for other in errors[1:]:
            first.add_note(f"another worker failed too: {type(other).__name__}: {other}")
        raise first
    return counts


@contextmanager
def advisory_lock(conn: psycopg.Connection, name: str) -> Iterator[bool]:
    """Try to become the only holder of the lock called `name`; yields whether we did.

    The lock lives in server memory, keyed by a 64-bit number (a hash of the name here),
    and is held by the session: it is released on unlock or when the connection closes.
    """
    row = conn.execute(TRY_LOCK, (name,)).fetchone()
    got = bool(row and row[0])
    conn.commit()
    try:
        yield got
    finally:
        if got:
            conn.execute(UNLOCK, (name,))
            conn.commit()
