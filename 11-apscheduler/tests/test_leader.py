"""Two app instances, each with its own scheduler: every job runs twice - unless one leads.

Real processes (`python main.py instance`) on a real PostgreSQL: the advisory lock belongs to a
database session, which is exactly what a killed process loses.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.conftest import wait_for

LESSON = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_url: str) -> Iterator[tuple[str, Engine]]:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS instance_runs"))
        conn.execute(text("CREATE TABLE instance_runs (instance text, ran_at float)"))
    yield postgres_url, engine
    engine.dispose()


@contextmanager
def instances(
    url: str, names: list[str], elect: bool
) -> Iterator[dict[str, subprocess.Popen[str]]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEADER_LOCK_KEY": str(secrets.randbelow(2**62) + 1),  # ours alone on this server
        "LEADER_RETRY_S": "0.2",
    }
    procs = {}
    try:
        for name in names:
            cmd = [sys.executable, "main.py", "instance", "--name", name, "--every", "0.1"]
            procs[name] = subprocess.Popen(
                [*cmd, "--elect"] if elect else cmd, cwd=LESSON, env=env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
        yield procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def runs_by_instance(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT instance, count(*) FROM instance_runs GROUP BY 1"))
        return dict(rows.all())


def test_without_election_every_instance_runs_the_job(store: tuple[str, Engine]) -> None:
    url, engine = store
    with instances(url, ["a", "b"], elect=False):
        wait_for(lambda: set(runs_by_instance(engine)) == {"a", "b"}, timeout=30)


def test_with_election_exactly_one_instance_runs_it_and_a_follower_takes_over(
    store: tuple[str, Engine],
) -> None:
    url, engine = store
    with instances(url, ["a", "b"], elect=True) as procs:
        counts = wait_for(lambda: sum(runs_by_instance(engine).values()) >= 10 and
                          runs_by_instance(engine), timeout=30)  # fmt: skip
        assert len(counts) == 1  # one leader ran every one of them
        (leader,) = counts
        follower = "b" if leader == "a" else "a"
        # Let more runs pass: the follower still runs nothing.
        wait_for(lambda: runs_by_instance(engine)[leader] >= counts[leader] + 10, timeout=30)
        assert follower not in runs_by_instance(engine)

        procs[leader].kill()  # SIGKILL: no clean-up, the session just ends
        procs[leader].wait()

        wait_for(lambda: follower in runs_by_instance(engine), timeout=30)
