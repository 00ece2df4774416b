"""main.py as a learner meets it: first use generates, odd settings are one line, no secrets."""

from __future__ import annotations

import json
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


def test_run_on_a_fresh_clone_generates_inputs_and_loads_them(tmp_path: Path) -> None:
    # No SOURCE_DATABASE_URL: the db source must follow DATA_DIR to the source.db generated there.
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATABASE_URL"}
    env |= {"DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    result = subprocess.run([sys.executable, "main.py", "run"], cwd=LESSON, env=env,
                            capture_output=True, text=True, timeout=180)  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "no inputs yet: generating 10,000 orders" in result.stdout
    generated = json.loads((tmp_path / "var" / "manifest.json").read_text())["rows"]["db"]
    (db_row,) = [line.split() for line in result.stdout.splitlines() if line.startswith("db ")]
    assert int(db_row[1].replace(",", "")) == generated  # read what generate wrote, all of it
    assert "quarantine:" in result.stdout and "parquet:" in result.stdout
    assert (tmp_path / "var" / "parquet").is_dir()


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "postgresql+asyncpg://u:s3cret@localhost/db"}, "driver 'asyncpg'"),
        ({"DATABASE_URL": "postgresql://u:s3cret@localhost:notaport/db"}, "port is not a number"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "in-memory"),
        ({"SOURCE_DATABASE_URL": "mysql://u:s3cret@h/db"}, "'mysql' is not supported"),
        ({"SOURCE_API_URL": "localhost:8000"}, "http://"),
        ({"SOURCE_API_URL": "http://u:s3cret@localhost:notaport"}, "port is not a number"),
        ({"BATCH_SIZE": "0"}, "BATCH_SIZE"),
    ],
)
def test_a_bad_setting_is_one_line_exit_2_without_the_password(
    env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as exited:
        main.main(["runs"])

    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1
    assert says in err and "s3cret" not in err


def test_an_unreachable_warehouse_is_one_line_with_the_command_that_starts_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        monkeypatch.setenv(
            "DATABASE_URL", f"postgresql://u:s3cret@127.0.0.1:{sock.getsockname()[1]}/w"
        )
        with pytest.raises(SystemExit) as exited:
            main.main(["runs"])

    err = capsys.readouterr().err
    assert exited.value.code == 1 and err.count("\n") == 1
    assert "docker compose up -d postgres" in err and "s3cret" not in err


def test_a_failed_source_is_exit_1_with_a_one_line_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "a.csv").write_text("order_id\nW-1\n")  # no amount, no email...
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")

    with pytest.raises(SystemExit) as exited:
        main.main(["run", "--source", "csv"])

    err = capsys.readouterr().err.strip().splitlines()
    assert exited.value.code == 1
    assert err[-1].startswith("run 1 failed: csv: a.csv has no column for")


@pytest.mark.parametrize("args", [["run", "--source", "ftp"], ["generate", "--rows", "5"], []])
def test_a_bad_argument_is_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main.main(args)

    assert exited.value.code == 2 and capsys.readouterr().err.count("\n") == 1


@pytest.mark.postgres
def test_a_warehouse_database_that_does_not_exist_is_a_setting_to_fix(
    postgres_server: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = postgres_server.set(database=f"no_such_db_{secrets.token_hex(4)}")
    monkeypatch.setenv("DATABASE_URL", missing.render_as_string(hide_password=False))

    with pytest.raises(SystemExit) as exited:
        main.main(["runs"])

    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1
    assert f'database "{missing.database}" does not exist' in err
    assert "docker compose" not in err  # the server is up: starting it is not the fix
