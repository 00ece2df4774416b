"""main.py (and bench.py's argument handling) as a user runs them: a subprocess, its exit
code and what it printed."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import main
from shopdb import db
from shopdb.settings import with_database

LESSON = Path(__file__).resolve().parents[1]


def run(
    *args: str, url: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", **(env or {})}
    if url is not None:
        env["DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=LESSON,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def free_port() -> int:
    """A port nothing listens on: bind port 0, note what the OS chose, let it go."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bad_argument_is_one_line_and_exit_2() -> None:
    result = run("seed", "--scale", "0")

    assert result.returncode == 2
    assert "--scale must be between 1 and 200" in one_line(result.stderr)


def test_unknown_demo_name_is_exit_2() -> None:
    result = run("explain", "hash")

    assert result.returncode == 2
    assert "invalid choice: 'hash'" in one_line(result.stderr)


def test_non_postgres_url_is_a_settings_error() -> None:
    result = run("tour", url="sqlite:///var/shop.db")

    assert result.returncode == 2
    assert "must be a postgresql:// URL" in one_line(result.stderr)


def test_url_without_a_database_is_a_settings_error() -> None:
    result = run("seed", url="postgresql://postgres@localhost:5432")

    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "error: bad settings: DATABASE_URL names no database (expected .../lessons)"
    )


def test_bad_setting_names_its_variable() -> None:
    result = run("seed", env={"DATASET_SCALE": "0"})

    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "error: bad settings: DATASET_SCALE: Input should be greater than or equal to 1"
    )


@pytest.mark.parametrize(
    ("query", "line"),
    [
        (":notaport/lessons", "port must be a number 1..65535, got 'notaport'"),
        (":99999/lessons", "port must be a number 1..65535, got '99999'"),
        ("/lessons?sslmode=bogus", "sslmode must be one of disable, allow, prefer, require,"),
        ("/lessons?sslmod=require", 'invalid URI query parameter: "sslmod"'),
    ],
    ids=["port-not-a-number", "port-out-of-range", "sslmode", "unknown-option"],
)
def test_a_bad_port_or_option_is_a_settings_error_not_a_stopped_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], query: str, line: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres:secret@localhost{query}")

    assert main.main(["tour"]) == 2

    assert one_line(capsys.readouterr().err).startswith(
        f"error: bad settings: DATABASE_URL: {line}"
    )


@pytest.mark.postgres
def test_ssl_the_server_does_not_offer_is_a_settings_error(
    postgres_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The compose server (and CI's) runs without SSL: sslmode=require cannot be met there.
    url = with_database(postgres_server, "lessons") + "?sslmode=require"
    monkeypatch.setenv("DATABASE_URL", url)

    assert main.main(["tour"]) == 2

    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: bad settings: DATABASE_URL (")
    assert line.endswith("server does not support SSL, but SSL was required")


@pytest.mark.parametrize("command", [[], ["seed"], ["tour"], ["explain", "brin"]], ids=str)
def test_unreachable_server_names_url_and_command(command: list[str]) -> None:
    # No command at all runs the tour, so it meets the missing server too.
    port = free_port()
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/lessons"

    result = run(*command, url=url)

    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"error: PostgreSQL not reachable at postgresql+psycopg://postgres:***@127.0.0.1:{port}"
        "/lessons - run: docker compose up -d postgres"
    )


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["seed"], ["tour"]], ids=str)
def test_refused_login_is_not_reported_as_a_missing_server(
    postgres_server: str, command: list[str]
) -> None:
    # The server answers, but not to this role: starting the compose service would not help.
    parts = urlsplit(postgres_server)
    netloc = f"no_such_role_09@{parts.hostname}:{parts.port or 5432}"
    url = urlunsplit((parts.scheme, netloc, "/lessons", "", ""))

    result = run(*command, url=url)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith(f"error: PostgreSQL at {url} refused the login: ")
    assert "no_such_role_09" in line and "docker compose" not in line


@pytest.fixture
def fresh_url(postgres_server: str) -> Iterator[str]:
    """A database name nobody uses; dropped afterwards if a test created it."""
    url = with_database(postgres_server, f"test_09_postgresql_{secrets.token_hex(4)}")
    yield url
    db.drop_database(url)


@pytest.mark.postgres
def test_missing_database_asks_for_seed(fresh_url: str) -> None:
    result = run("tour", url=fresh_url)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "does not exist" in line and "run first: python main.py seed" in line


@pytest.mark.postgres
def test_empty_database_asks_for_seed(fresh_url: str) -> None:
    db.create_database(fresh_url)

    result = run("explain", "brin", url=fresh_url)

    assert result.returncode == 1
    assert "no shop data" in one_line(result.stderr)


@pytest.mark.postgres
def test_seed_creates_the_database_then_tour_and_explain_run(fresh_url: str) -> None:
    seeded = run("seed", "--scale", "1", url=fresh_url)
    assert seeded.returncode == 0, seeded.stderr
    assert "created database" in seeded.stdout
    assert "5,000 orders" in seeded.stdout

    again = run("seed", "--scale", "1", url=fresh_url)  # idempotent: recreates the tables
    assert again.returncode == 0, again.stderr
    assert "created database" not in again.stdout

    # The planner runs on the server's own cost settings here, so the markers name the
    # index a plan uses ("using <index>"), not which kind of scan node reads it: a
    # server tuned for SSDs may pick another node, and the index is what the demo adds.
    tour = run("tour", url=fresh_url)
    assert tour.returncode == 0, tour.stderr
    for marker in (
        "WITH RECURSIVE",
        "using orders_customer_total_idx on orders",
        "orders_recent_customer_idx",
        "external merge",
        "refused ['bob']",
        # The SQL of the JSONB, bookings, transaction and queue sections, with its values
        'WHERE attributes @> \'{"color": "red", "specs": {"wireless": true}}\'',
        "INSERT INTO bookings (room_id, guest, during) VALUES (1, 'late guest'",
        "-- a: waits for b's row 2",
        "pg_try_advisory_lock(hashtextextended('nightly-report', 0))",
        # The prepared statement as pg_prepared_statements holds it, placeholder and all
        "customer_id WHERE o.id = $1",
    ):
        assert marker in tour.stdout

    explain = run("explain", "composite", url=fresh_url)
    assert explain.returncode == 0, explain.stderr
    assert "using orders_customer_recent_idx on orders" in explain.stdout


def test_bench_bad_argument_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "bench.py", "--fast"], cwd=LESSON, capture_output=True, text=True
    )

    assert result.returncode == 2
    assert "unrecognized arguments: --fast" in one_line(result.stderr)


def test_bench_bad_setting_is_one_line_and_exit_2() -> None:
    env = {**os.environ, "DATABASE_URL": "sqlite:///var/shop.db"}
    result = subprocess.run(
        [sys.executable, "bench.py", "--quick"], cwd=LESSON, env=env, capture_output=True, text=True
    )

    assert result.returncode == 2
    assert "must be a postgresql:// URL" in one_line(result.stderr)
