"""bench.py when things go wrong after (or while) it creates its throwaway database: one line
on stderr, exit 1, and the database dropped - or named, when even that fails."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

import bench
from shopdb import db
from shopdb.settings import with_database

LESSON = Path(__file__).resolve().parents[1]


def bench_quick(url: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "bench.py", "--quick"],
        cwd=LESSON,
        env={**os.environ, "DATABASE_URL": url, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def role_without_createdb(postgres_server: str) -> Iterator[str]:
    """A login role that may not create databases; the URL that logs in as it."""
    role = f"bench_09_{secrets.token_hex(4)}"
    with db.connect(with_database(postgres_server, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB").format(sql.Identifier(role)))
    parts = urlsplit(postgres_server)
    netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
    try:
        yield urlunsplit((parts.scheme, netloc, "/lessons", "", ""))
    finally:
        with db.connect(with_database(postgres_server, "postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.mark.postgres
def test_no_right_to_create_the_database_is_one_line(role_without_createdb: str) -> None:
    proc = bench_quick(role_without_createdb)
    _, stderr = proc.communicate(timeout=120)

    assert proc.returncode == 1
    line = one_line(stderr)
    assert line.startswith("error: cannot create the database 'bench_09_postgresql_")
    assert "permission denied to create database" in line


def _bench_backends(admin: psycopg.Connection, app: str) -> list[tuple[int, str]]:
    rows = admin.execute(
        "SELECT pid, datname FROM pg_stat_activity "
        "WHERE application_name = %s AND datname LIKE 'bench_09_postgresql_%%'",
        (app,),
    ).fetchall()
    return [(int(pid), str(name)) for pid, name in rows]


@pytest.mark.postgres
def test_server_gone_mid_run_is_one_line_and_the_database_is_dropped(
    postgres_server: str,
) -> None:
    # libpq reads PGAPPNAME: it tags this bench's sessions, and only those are cut off.
    app = f"bench09-{secrets.token_hex(4)}"
    proc = bench_quick(postgres_server, PGAPPNAME=app)
    with db.connect(with_database(postgres_server, "postgres"), autocommit=True) as admin:
        deadline = time.monotonic() + 120  # generous: a busy machine is slow to start
        backends: list[tuple[int, str]] = []
        while not backends and proc.poll() is None and time.monotonic() < deadline:
            backends = _bench_backends(admin, app)
            time.sleep(0.01)
        assert backends, "bench.py never connected to its throwaway database"
        # What a server restart does to a session: terminate it.
        for pid, _ in backends:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        _, stderr = proc.communicate(timeout=300)
        left = admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (backends[0][1],)
        ).fetchone()

    assert proc.returncode == 1
    line = one_line(stderr)
    assert line.startswith("error: PostgreSQL at postgresql://") and "failed mid-run" in line
    assert left == (0,)  # the cleanup still ran


def test_a_failing_cleanup_does_not_hide_the_first_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Unit tier: the faults are injected, no server is needed. The run fails first, then
    # dropping the database fails too (the server is gone for both).
    def seed_fails(*args: object) -> None:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    def drop_fails(url: str) -> None:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/lessons")
    monkeypatch.setattr(bench.db, "create_database", lambda url: True)
    monkeypatch.setattr(bench, "run_all", seed_fails)
    monkeypatch.setattr(bench.db, "drop_database", drop_fails)

    code = bench.main(["--quick"])

    first, second = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert "failed mid-run: server closed the connection unexpectedly" in first
    assert second.startswith("error: could not drop the bench database 'bench_09_postgresql_")
    assert "(connection refused) - drop it by hand: DROP DATABASE bench_09_postgresql_" in second


@pytest.mark.postgres
def test_an_index_the_plan_ignores_gets_no_speed_up(
    shop_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The hand-written shop has 7 orders on one page: reading it beats any index, so the
    # BRIN row's two timings are the same plan twice, and a ratio of them would be noise.
    with db.connect(shop_url) as conn:
        bench.bench_indexes(conn, repeats=1)

    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line}
    assert rows["brin"].split()[3:] == ["not", "used", "orders_ordered_at_brin"]
