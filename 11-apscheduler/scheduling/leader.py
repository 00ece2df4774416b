"""One scheduler among many app instances: leader election with a PostgreSQL advisory lock.

Every instance of a web app runs the same start-up code, so every instance starts a scheduler
and every job runs once per instance. The fix here: all instances start their scheduler
*paused*; the one that holds a session-level advisory lock resumes it. The lock belongs to a
database session, so when the leader dies (crash, SIGKILL, network cut) PostgreSQL ends its
session and frees the lock, and a follower takes over on its next try - no lease to expire.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import psycopg
from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger("scheduling.leader")


class LeaderElection:
    def __init__(self, conninfo: str, key: int, scheduler: BaseScheduler, retry_s: float) -> None:
        self.conninfo = conninfo  # libpq form: postgresql://user:pass@host:port/db
        self.key = key
        self.scheduler = scheduler
        self.retry_s = retry_s
        self.is_leader = threading.Event()
        self._stop = threading.Event()
        self._conn: psycopg.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.retry_s + 5)
        self._drop_connection()  # closing the session releases the lock at once

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.is_leader.is_set():
                    self._still_connected()
                else:
                    self._try_to_lead()
            except psycopg.Error as exc:
                # Lost the session = lost the lock: stop scheduling. A follower that took the
                # lock meanwhile waits two check periods before it runs anything.
                if self.is_leader.is_set():
                    log.warning("lost the leader lock (%s); pausing", type(exc).__name__)
                    self.scheduler.pause()
                    self.is_leader.clear()
                self._drop_connection()
            self._stop.wait(self.retry_s)

    def _try_to_lead(self) -> None:
        if self._conn is None:
            self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        got = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if got and got[0]:
            # The lock is ours, but an old leader whose session the server has just ended does
            # not know it yet: it finds out at its next check, at most retry_s away. Waiting two
            # check periods before running anything means the two never run jobs at once.
            if self._stop.wait(2 * self.retry_s):
                return
            self._still_connected()  # and we still hold it
            log.info("became the leader (advisory lock %s); resuming the scheduler", self.key)
            self.is_leader.set()
            self.scheduler.resume()

    def _still_connected(self) -> None:
        assert self._conn is not None
        self._conn.execute("SELECT 1")

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None
