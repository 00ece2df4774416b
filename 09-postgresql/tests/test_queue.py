"""The SKIP LOCKED job queue and advisory locks, with real concurrent sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import pq

from shopdb import db, jobqueue, plans

pytestmark = pytest.mark.postgres


@pytest.fixture
def queue(connect: db.Connect) -> Iterator[psycopg.Connection]:
    conn = connect()
    jobqueue.reset(conn)
    yield conn
    conn.close()


def test_a_claim_in_progress_is_skipped_not_waited_for(
    queue: psycopg.Connection, connect: db.Connect
) -> None:
    jobqueue.enqueue(queue, [{"n": 1}, {"n": 2}])
    claim = {"worker": "w", "lease": jobqueue.LEASE}
    with connect() as first, connect() as second:
        # If SKIP LOCKED did not work, the second claim would block: fail fast instead.
        second.execute("SET lock_timeout = '2s'")
        second.commit()

        held = first.execute(jobqueue.CLAIM, claim).fetchone()  # not committed: job 1 locked
        taken = second.execute(jobqueue.CLAIM, claim).fetchone()

        assert held is not None and taken is not None
        assert (held[0], taken[0]) == (1, 2)
        first.rollback()
        second.rollback()


def test_the_handler_runs_with_no_transaction_open_and_the_claim_visible(
    queue: psycopg.Connection, connect: db.Connect
) -> None:
    jobqueue.enqueue(queue, [{"n": 1}])
    seen: list[object] = []

    with connect() as worker:

        def handler(payload: dict[str, Any]) -> None:
            # The worker's session is idle, not "idle in transaction": no snapshot held
            # open for as long as the job takes. Another session sees who holds the job.
            seen.append(worker.info.transaction_status)
            with connect() as observer:
                seen.append(observer.execute("SELECT leased_by FROM jobs").fetchone())

        assert jobqueue.work_one(worker, "w0", handler) == 1

    assert seen == [pq.TransactionStatus.IDLE, ("w0",)]
    assert queue.execute("SELECT status, attempts FROM jobs").fetchall() == [("done", 1)]


def test_a_crashed_workers_job_is_claimed_again_when_its_lease_runs_out(
    queue: psycopg.Connection, connect: db.Connect
) -> None:
    jobqueue.enqueue(queue, [{"n": 1}])
    with connect() as dying:
        crashed = jobqueue.claim(dying, "w0")  # ...and the worker dies: no complete, no release
    assert crashed is not None

    with connect() as other:
        assert jobqueue.claim(other, "w1") is None  # leased: not free yet
        # Time passes (moved on here, rather than waited for): the lease runs out.
        queue.execute("UPDATE jobs SET leased_until = now() - interval '1 second'")
        queue.commit()
        again = jobqueue.claim(other, "w1")
        assert again is not None and (again.id, again.attempt) == (1, 2)

        # The first worker comes back late: its lease is gone, so it may not finish the job.
        with connect() as late, pytest.raises(jobqueue.LeaseLost):
            jobqueue.complete(late, crashed, "w0")
        jobqueue.complete(other, again, "w1")

    assert queue.execute("SELECT job_id, worker FROM job_runs").fetchall() == [(1, "w1")]


def test_the_claim_reads_the_partial_index_of_queued_jobs(queue: psycopg.Connection) -> None:
    jobqueue.enqueue(queue, [{"n": i} for i in range(2_000)])
    queue.execute("UPDATE jobs SET status = 'done' WHERE id <= 1990")
    queue.execute("ANALYZE jobs")
    queue.commit()

    claim = {"worker": "w", "lease": jobqueue.LEASE}
    plan = plans.explain(queue, jobqueue.CLAIM, claim, analyze=False)
    queue.rollback()

    assert "jobs_queued_idx" in plans.index_scans(plan)


def test_concurrent_workers_run_every_job_exactly_once(
    queue: psycopg.Connection, connect: db.Connect
) -> None:
    jobqueue.enqueue(queue, [{"n": i} for i in range(200)])
    seen: list[int] = []
    lock = threading.Lock()

    def handler(payload: dict[str, Any]) -> None:
        with lock:
            seen.append(payload["n"])

    counts = jobqueue.run_workers(connect, 4, handler)

    assert sorted(seen) == list(range(200))
    assert sum(counts.values()) == 200
    runs = queue.execute("SELECT count(*), count(DISTINCT job_id) FROM job_runs").fetchone()
    assert runs == (200, 200)
    assert queue.execute("SELECT count(*) FROM jobs WHERE status <> 'done'").fetchone() == (0,)


def test_a_failing_job_goes_back_to_the_queue(
    queue: psycopg.Connection, connect: db.Connect
) -> None:
    jobqueue.enqueue(queue, [{"n": 1}])

    def crash(payload: dict[str, Any]) -> None:
        raise RuntimeError("worker died mid-job")

    with connect() as worker, pytest.raises(RuntimeError):
        jobqueue.work_one(worker, "w0", crash)

    # The transaction rolled back: job still queued, no run recorded, the next worker gets it.
    assert queue.execute("SELECT id, status FROM jobs").fetchall() == [(1, "queued")]
    assert queue.execute("SELECT count(*) FROM job_runs").fetchone() == (0,)
    queue.rollback()
    with connect() as worker:
        assert jobqueue.work_one(worker, "w1", lambda payload: None) == 1


def test_empty_queue_returns_none(queue: psycopg.Connection) -> None:
    assert jobqueue.work_one(queue, "w0", lambda payload: None) is None


def test_advisory_lock_admits_one_holder_at_a_time(connect: db.Connect) -> None:
    with connect() as a, connect() as b:
        with jobqueue.advisory_lock(a, "nightly-report") as got_a:
            with jobqueue.advisory_lock(b, "nightly-report") as got_b:
                assert (got_a, got_b) == (True, False)
            with jobqueue.advisory_lock(b, "another-job") as got_other:
                assert got_other  # different name, different lock
        with jobqueue.advisory_lock(b, "nightly-report") as got_b_later:
            assert got_b_later  # released when a's block ended


def _both_workers_hold_a_job(fail: bool) -> jobqueue.Handler:
    """A handler that returns (or raises) only once two jobs are running at the same time:
    a proof, without timing, that two workers each took one. Generous timeout: it is only
    reached when something is broken."""
    both = threading.Barrier(2, timeout=60)

    def handler(payload: dict[str, Any]) -> None:
        both.wait()
        if fail:
            raise RuntimeError(f"job {payload['n']} failed")

    return handler


def test_two_workers_each_take_a_job_at_the_same_time(
    queue: psycopg.Connection, connect: db.Connect
) -> None:
    jobqueue.enqueue(queue, [{"n": 1}, {"n": 2}])

    counts = jobqueue.run_workers(connect, 2, _both_workers_hold_a_job(fail=False))

    assert counts == {"w0": 1, "w1": 1}


def test_every_failing_worker_is_reported(queue: psycopg.Connection, connect: db.Connect) -> None:
    jobqueue.enqueue(queue, [{"n": 1}, {"n": 2}])

    with pytest.raises(RuntimeError) as caught:
        jobqueue.run_workers(connect, 2, _both_workers_hold_a_job(fail=True))

    # One raised, the other named on it: neither worker's failure is dropped.
    notes = getattr(caught.value, "__notes__", [])
    assert len(notes) == 1
    other = notes[0].removeprefix("another worker failed too: RuntimeError: ")
    assert sorted([str(caught.value), other]) == ["job 1 failed", "job 2 failed"]
    # Both jobs rolled back: still queued for the next worker.
    assert queue.execute("SELECT count(*) FROM jobs WHERE status = 'queued'").fetchone() == (2,)


def test_a_worker_whose_lease_ran_out_leaves_the_job_and_goes_on(
    queue: psycopg.Connection, connect: db.Connect, caplog: pytest.LogCaptureFixture
) -> None:
    jobqueue.enqueue(queue, [{"n": 1}, {"n": 2}])
    taken_over: list[jobqueue.Claim] = []

    def slow_first_job(payload: dict[str, Any]) -> None:
        if payload["n"] == 1:
            # While job 1 runs, its lease runs out and another worker claims it.
            queue.execute("UPDATE jobs SET leased_until = now() - interval '1 second'")
            queue.commit()
            with connect() as other:
                claimed = jobqueue.claim(other, "w1")
                assert claimed is not None
                taken_over.append(claimed)

    assert jobqueue.drain(connect, "w0", slow_first_job) == 1  # job 2; job 1 is w1's now

    assert [job.id for job in taken_over] == [1]
    assert "w0: job 1: lease of attempt 1 lost" in caplog.text
    statuses = queue.execute("SELECT id, status, leased_by FROM jobs ORDER BY id").fetchall()
    assert statuses == [(1, "queued", "w1"), (2, "done", "w0")]
