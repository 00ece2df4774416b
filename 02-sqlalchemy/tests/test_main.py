"""`python main.py` end to end: the tour on both backends, and its one-line failures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

import bench
import main

LESSON = Path(__file__).resolve().parent.parent


def run_main_process(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The real thing: a fresh interpreter, as a learner runs it."""
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, str(LESSON / "main.py"), *args],
        cwd=LESSON,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Outcome]:
    """main.main() in this process: the same code path without a new interpreter per test."""

    def run(*args: str, database_url: str | None = None, **env: str) -> Outcome:
        monkeypatch.delenv("DATABASE_URL", raising=False)
        if database_url is not None:
            monkeypatch.setenv("DATABASE_URL", database_url)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        try:
            code = main.main(list(args))
        except SystemExit as exc:  # argparse exits on a bad argument
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def _url(database_url: URL) -> str:
    return database_url.render_as_string(hide_password=False)


def test_tour_runs_and_shows_the_n_plus_one(
    run_main: Callable[..., Outcome], database_url: URL
) -> None:
    result = run_main("--no-sql", database_url=_url(database_url))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The id comes from the database at flush, before anyone else can see the row.
    assert "after add: ada.id = None" in out
    assert "after flush: ada.id = 1; another session counts 0 customers" in out
    assert "-> 24 statement(s) (lazy)" in out  # 23 customers: 1 + 23
    assert "-> 2 statement(s) (selectinload)" in out
    assert "-> 1 statement(s) (joinedload)" in out
    assert "rejected MUG: uq_shop_products_sku" in out
    assert "refused: TENT-4P: wanted 3, only 2 in stock" in out
    assert "third checkout -> TimeoutError" in out
    assert out.rstrip().endswith("tour finished")
    assert "SQL>" not in out


def test_script_prints_the_sql_by_default(tmp_path: Path) -> None:
    result = run_main_process(database_url=f"sqlite:///{tmp_path / 'tour.db'}")
    assert result.returncode == 0, result.stderr
    assert "SQL> SAVEPOINT" in result.stdout and "SQL> WITH RECURSIVE" in result.stdout


def test_async_tour(run_main: Callable[..., Outcome], database_url: URL) -> None:
    result = run_main("--async", "--no-sql", database_url=_url(database_url))
    assert result.returncode == 0, result.stderr
    assert "ada.orders -> MissingGreenlet" in result.stdout
    assert "ada has 2 orders" in result.stdout
    assert "tour finished" in result.stdout


def test_bad_argument_is_one_line_and_exit_2(run_main: Callable[..., Outcome]) -> None:
    result = run_main("--speed", "fast")
    assert result.returncode == 2
    assert result.stderr == "error: unrecognized arguments: --speed fast\n"  # no usage block


def test_bad_setting_is_one_line_and_exit_2(
    run_main: Callable[..., Outcome], tmp_path: Path
) -> None:
    result = run_main(database_url=f"sqlite:///{tmp_path / 'x.db'}", POOL_SIZE="lots")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: invalid settings: POOL_SIZE: Input should be")


@pytest.mark.parametrize(
    ("url", "mode", "says"),
    [
        ("mysql://root@localhost/shop", (), "must be sqlite or postgresql, got 'mysql'"),
        # The sync tour on an async driver: DATABASE_URL is the sync form, --async derives.
        (
            "postgresql+asyncpg://postgres@localhost/lessons",
            (),
            "the sync tour needs postgresql+psycopg://",
        ),
        ("sqlite+aiosqlite:///var/shop.db", (), "the sync tour needs sqlite:///"),
        # An in-memory database is empty again on every pooled connection.
        ("sqlite:///:memory:", (), "in-memory SQLite database"),
        ("sqlite:///:memory:", ("--async",), "in-memory SQLite database"),
        ("sqlite://", (), "in-memory SQLite database"),
    ],
)
def test_a_url_the_tour_cannot_use_is_one_line_saying_which_form_to_use(
    run_main: Callable[..., Outcome], url: str, mode: tuple[str, ...], says: str
) -> None:
    result = run_main(*mode, "--no-sql", database_url=url)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert result.stderr.startswith("error: DATABASE_URL ") and says in result.stderr
    assert result.stdout == ""  # refused before the tour starts


def test_async_tour_accepts_an_async_driver_url(
    run_main: Callable[..., Outcome], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    result = run_main("--async", "--no-sql", database_url=url)
    assert result.returncode == 0, result.stderr
    assert "tour finished" in result.stdout


def test_missing_driver_is_refused(run_main: Callable[..., Outcome]) -> None:
    result = run_main(database_url="postgresql+psycopg2://postgres@localhost/lessons")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: DATABASE_URL names a driver that is not installed")


@pytest.mark.parametrize("mode", [(), ("--async",)])
def test_a_file_that_is_not_a_database_is_one_line_and_exit_1(
    run_main: Callable[..., Outcome], tmp_path: Path, mode: tuple[str, ...]
) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("plain text, not SQLite\n" * 100)
    result = run_main(*mode, "--no-sql", database_url=f"sqlite:///{not_a_database}")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert "cannot be opened" in result.stderr and "file is not a database" in result.stderr


def test_an_unusable_sqlite_folder_is_one_line_and_exit_1(
    run_main: Callable[..., Outcome], tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    result = run_main("--no-sql", database_url=f"sqlite:///{a_file / 'shop.db'}")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "cannot be opened" in result.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("mode", [(), ("--async",)])
def test_unreachable_postgres_is_one_line_and_exit_1(
    run_main: Callable[..., Outcome], mode: tuple[str, ...]
) -> None:
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{_closed_port()}/lessons"
    result = run_main(*mode, database_url=url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert "PostgreSQL not reachable at" in result.stderr
    assert "docker compose up -d postgres" in result.stderr
    assert "secret" not in result.stderr  # passwords are never printed


def test_bench_without_postgres_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{_closed_port()}/lessons"
    monkeypatch.setenv("DATABASE_URL", url)
    assert bench.main(["--quick", "--backend", "postgres"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("PostgreSQL not reachable at") and "docker compose up -d postgres" in err
    assert "secret" not in err


@pytest.mark.postgres
@pytest.mark.parametrize("mode", [(), ("--async",)])
def test_unknown_user_is_not_called_a_missing_database(
    run_main: Callable[..., Outcome], postgres_server: URL, mode: tuple[str, ...]
) -> None:
    url = _url(postgres_server.set(username="no_such_role_02", password="secret"))
    result = run_main(*mode, database_url=url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "refused the login" in result.stderr and "no_such_role_02" in result.stderr
    assert "does not exist at" not in result.stderr and "secret" not in result.stderr


@pytest.mark.postgres
def test_missing_database_is_named(run_main: Callable[..., Outcome], postgres_server: URL) -> None:
    url = _url(postgres_server.set(database="no_such_db_02_sqlalchemy"))
    result = run_main(database_url=url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "database 'no_such_db_02_sqlalchemy' does not exist" in result.stderr


def test_bench_bad_argument_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        bench.main(["--backend", "mysql"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: argument --backend: invalid choice")
