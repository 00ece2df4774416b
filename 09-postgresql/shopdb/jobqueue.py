"""A job queue in a table: `FOR UPDATE SKIP LOCKED` lets many workers take jobs without
waiting for each other, and advisory locks give "only one of us runs this" without a table.

A job takes three steps, and only the first and the last are transactions, each a few
milliseconds long:

1. claim: one short transaction leases the oldest free job to this worker (`leased_until`);
2. run the handler, with no transaction open - it may take seconds (an API call, a file);
3. complete: one short transaction marks the job done, if this worker still holds the lease.

Holding one transaction around the handler would be simpler (a crash rolls the claim back),
but the transaction would last as long as the slowest job: its snapshot holds back VACUUM for
the whole database, and its connection is pinned for the duration. The lease gives the same
safety: a worker that dies never completes, its lease runs out, and another worker claims the
job again (at least once: a handler may run twice, so it must be safe to repeat).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from .db import Connect

# The inner SELECT finds the oldest job nobody holds (a lease that ran out counts as free);
# SKIP LOCKED means a worker never waits behind another one's claim - it takes the next
# free job instead. `status = 'queued'` matches the partial index jobs_queued_idx, so done
# jobs, however many, are never read. attempts doubles as the lease's fencing token.
CLAIM = """
UPDATE jobs SET leased_by = %(worker)s, leased_until = now() + %(lease)s,
                attempts = attempts + 1
WHERE id = (
    SELECT id FROM jobs
    WHERE status = 'queued' AND (leased_until IS NULL OR leased_until < now())
    ORDER BY id
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING id, attempts, payload
"""

# Only the holder of this very claim may finish it: after its lease ran out and another
# worker claimed the job, attempts has moved on and this UPDATE matches nothing.
COMPLETE = """
UPDATE jobs SET status = 'done', leased_until = NULL
WHERE id = %(id)s AND attempts = %(attempt)s AND status = 'queued'
"""
RELEASE = """
UPDATE jobs SET leased_by = NULL, leased_until = NULL
WHERE id = %(id)s AND attempts = %(attempt)s AND status = 'queued'
"""

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # longer than any job may take; then the job is claimed again

Handler = Callable[[dict[str, Any]], None]

# Advisory locks are keyed by a 64-bit number: hash the name to get one.
TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"


@dataclass(frozen=True)
class Claim:
    id: int
    attempt: int
    payload: dict[str, Any]


class LeaseLost(RuntimeError):
    """The lease ran out before the job finished, and another worker claimed it."""


def enqueue(conn: psycopg.Connection, payloads: list[dict[str, Any]]) -> None:
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO jobs (payload) VALUES (%s)", [(Jsonb(p),) for p in payloads])
    conn.commit()


def reset(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE job_runs, jobs RESTART IDENTITY")
    conn.commit()


def claim(conn: psycopg.Connection, worker: str, lease: timedelta = LEASE) -> Claim | None:
    """Lease the oldest free job to `worker` in a transaction of its own; None if none is free."""
    with conn.transaction():
        # A claim need not survive a server crash: lost, the job is simply free again (and
        # delivery is at least once anyway). Not waiting for its WAL flush halves the commits
        # a job waits for; complete() below stays durable.
        conn.execute("SET LOCAL synchronous_commit = off")
        row = conn.execute(CLAIM, {"worker": worker, "lease": lease}).fetchone()
    return None if row is None else Claim(int(row[0]), int(row[1]), row[2])


def complete(conn: psycopg.Connection, job: Claim, worker: str) -> None:
    """Mark the job done and record the run, in one transaction - or raise LeaseLost."""
    with conn.transaction():
        done = conn.execute(COMPLETE, {"id": job.id, "attempt": job.attempt})
        if done.rowcount == 0:
            raise LeaseLost(f"job {job.id}: lease of attempt {job.attempt} lost")
        conn.execute("INSERT INTO job_runs (job_id, worker) VALUES (%s, %s)", (job.id, worker))


def release(conn: psycopg.Connection, job: Claim) -> None:
    """Give the job back at once (the handler failed): the next claim may take it."""
    with conn.transaction():
        conn.execute(RELEASE, {"id": job.id, "attempt": job.attempt})


def work_one(
    conn: psycopg.Connection, worker: str, handler: Handler, lease: timedelta = LEASE
) -> int | None:
    """Claim, run and complete one job; None when the queue has nothing free.

    The handler runs between two transactions, never inside one. If it raises, the job is
    released for the next worker; if the worker dies, the lease runs out. Nothing is lost.
    """
    job = claim(conn, worker, lease)
    if job is None:
        return None
    try:
        handler(job.payload)
    except BaseException:
        release(conn, job)
        raise
    complete(conn, job, worker)
    return job.id


def drain(connect: Connect, worker: str, handler: Handler) -> int:
    """One worker: take jobs until none is left. Returns how many it ran."""
    done = 0
    with connect() as conn:
        while True:
            try:
                if work_one(conn, worker, handler) is None:
                    return done
                done += 1
            except LeaseLost as exc:
                # The job ran past its lease and is another worker's now: not this worker's
                # failure, and no reason to stop taking jobs.
                log.warning("%s: %s", worker, exc)


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
