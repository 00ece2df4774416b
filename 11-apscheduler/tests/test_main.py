"""main.py as a learner meets it: the demo runs, odd settings are one line, secrets stay hidden."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

import main

LESSON = Path(__file__).resolve().parents[1]


def run_main(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=LESSON, capture_output=True, text=True,
        timeout=120, env={**os.environ, **env},
    )  # fmt: skip


def test_the_demo_runs_restarts_and_reports_missed_runs(tmp_path: Path) -> None:
    result = run_main("demo", "--seconds", "1.5", DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}")

    assert result.returncode == 0, result.stderr
    assert "jobs still in the store: 5" in result.stdout
    summary = result.stdout[result.stdout.index("due while down") :]
    assert "demo-catchup" in summary and "missed" in summary
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "postgresql+asyncpg://u:s3cret@localhost/db"}, "driver 'asyncpg'"),
        ({"DATABASE_URL": "postgresql://u:s3cret@localhost:notaport/db"}, "port is not a number"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "forgets every job"),
        ({"DATABASE_URL": "mysql://u:s3cret@localhost/db"}, "'mysql' is not supported"),
        ({"SCHEDULER_TIMEZONE": "Mars/Base"}, "unknown time zone"),
        ({"SCHEDULER_THREADS": "0"}, "SCHEDULER_THREADS"),
        ({"LEADER_LOCK_KEY": "7"}, "needs a PostgreSQL DATABASE_URL"),
    ],
)
def test_a_bad_setting_is_one_line_exit_2_without_the_password(
    env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as exited:
        main.main(["demo"])

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and says in err and "s3cret" not in err


def test_an_unreachable_database_is_one_line_with_the_command_that_starts_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        port = sock.getsockname()[1]
        monkeypatch.setenv("DATABASE_URL", f"postgresql://u:s3cret@127.0.0.1:{port}/db")

        with pytest.raises(SystemExit) as exited:
            main.main(["demo"])

    err = capsys.readouterr().err
    assert exited.value.code == 1 and err.count("\n") == 1
    assert "docker compose up -d postgres" in err and "s3cret" not in err and "***" in err


@pytest.mark.postgres
def test_a_database_that_does_not_exist_is_a_setting_to_fix_not_a_server_to_start(
    postgres_server: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = postgres_server.set(database=f"no_such_db_{secrets.token_hex(4)}")
    monkeypatch.setenv("DATABASE_URL", missing.render_as_string(hide_password=False))

    with pytest.raises(SystemExit) as exited:
        main.main(["demo"])

    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1
    assert f'database "{missing.database}" does not exist' in err
    assert "docker compose" not in err  # the server is up: starting it is not the fix


@pytest.mark.parametrize(
    "args",
    [["serve", "--port", "70000"], ["demo", "--seconds", "0"], ["instance", "--every", "0"],
     ["next", "0 0 31 2 *"], ["bogus"]],
)  # fmt: skip
def test_a_bad_argument_is_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main.main(args)

    assert exited.value.code == 2 and capsys.readouterr().err.count("\n") == 1


@pytest.mark.postgres
def test_elect_without_a_lock_key_is_refused(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("LEADER_LOCK_KEY", "0")

    with pytest.raises(SystemExit) as exited:
        main.main(["instance", "--elect"])

    assert exited.value.code == 2 and "LEADER_LOCK_KEY" in capsys.readouterr().err
