"""``main.py`` as a user runs it: in a subprocess, reading what it prints."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

LESSON = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOWHERE = "postgresql+psycopg://postgres:secret@127.0.0.1:1/lessons"  # nothing listens there
BROKEN_TEST = "def test_broken() -> None:\n    assert 1 + 1 == 3, 'broken on purpose'\n"


def copy_of_lesson(into: Path) -> Path:
    """The lesson's code and tests under ``into``: a var/ and a .env of its own.

    For the commands that write under var/ or read .env, so that a learner's real coverage
    report, mutation results and .env are never touched by the suite.
    """
    lesson = into / LESSON.name
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    for folder in ("orders", "tests"):
        shutil.copytree(LESSON / folder, lesson / folder, ignore=ignore)
    for name in ("main.py", "bench.py", "pytest.ini", ".coveragerc"):
        shutil.copy(LESSON / name, lesson)
    return lesson


def run_in(
    lesson: Path, *command: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *command],
        cwd=lesson,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_main(
    *args: str, env: dict[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=LESSON,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("command", "env", "line"),
    [
        (["main.py", "--port", "eighty"], {}, "main.py: error: argument --port: invalid int value"),
        (["bench.py", "--fast"], {}, "bench.py: error: unrecognized arguments: --fast"),
        (["main.py"], {"DATABASE_URL": "mysql://db/shop"}, "main.py: bad setting database_url"),
    ],
    ids=["main-bad-option", "bench-bad-option", "unsupported-database"],
)
def test_a_bad_argument_is_one_line_on_stderr_and_exit_2(
    command: list[str], env: dict[str, str], line: str
) -> None:
    done = subprocess.run(
        [sys.executable, *command],
        cwd=LESSON,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    # One line, no usage block and no traceback: the user sees what was wrong and nothing else.
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), done.stderr


def test_the_lessons_dotenv_is_read_when_started_from_another_folder(tmp_path: Path) -> None:
    # `python 08-testing/main.py` from the repository root: the lesson's .env counts, a .env
    # in the current directory does not.
    lesson = copy_of_lesson(tmp_path)
    (lesson / ".env").write_text("LOG_LEVEL=loud\n")
    (tmp_path / ".env").write_text("PORT=eighty\n")  # someone else's .env, in the cwd
    env = {k: v for k, v in os.environ.items() if k not in {"LOG_LEVEL", "PORT"}}
    done = subprocess.run(
        [sys.executable, f"{lesson.name}/main.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("main.py: bad setting log_level:"), done.stderr


def test_a_sqlite_file_in_a_folder_that_cannot_exist_is_a_bad_setting(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    done = run_main(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'a-file' / 'orders.db'}"})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("main.py: bad setting database_url:"), lines


def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_main(
            "--port", str(port), env={"DATABASE_URL": f"sqlite:///{tmp_path / 'orders.db'}"}
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"cannot listen on 127.0.0.1:{port}: Address already in use (--port 0 picks a free port)"
    ]


def postgres_at(server: str, **parts: str) -> str:
    """The test server's URL as a learner writes DATABASE_URL, with some parts replaced."""
    url = make_url(server).set(drivername="postgresql+psycopg", **parts)
    return url.render_as_string(hide_password=False)


def masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@pytest.mark.postgres
def test_an_unknown_user_is_a_refused_login_not_a_stopped_server(postgres_server: str) -> None:
    url = postgres_at(postgres_server, username="no_such_role_08", password="secret")
    done = run_main(env={"DATABASE_URL": url})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"PostgreSQL at {masked(url)} refused the login of user 'no_such_role_08'"
        ' (role "no_such_role_08" does not exist) - check the user and password in DATABASE_URL'
    ]
    assert "secret" not in done.stderr


@pytest.mark.postgres
def test_a_missing_database_says_how_to_create_it(postgres_server: str) -> None:
    url = postgres_at(postgres_server, database="no_such_db_08_testing")
    done = run_main(env={"DATABASE_URL": url})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"PostgreSQL database 'no_such_db_08_testing' does not exist at {masked(url)}"
        " - create it: docker compose exec postgres createdb -U postgres no_such_db_08_testing"
    ]


def test_a_missing_postgres_is_one_line_naming_the_fix() -> None:
    # Port 1 on localhost: nothing listens there, the connection is refused at once.
    done = run_main(env={"DATABASE_URL": NOWHERE})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "PostgreSQL not reachable at postgresql+psycopg://postgres:***@127.0.0.1:1/lessons"
        " - run: docker compose up -d postgres"
    ]


@contextmanager
def served(database: Path, log: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python main.py --port 0`` on a SQLite file: yields the process and its base URL.

    The server's stderr (uvicorn's log) goes to the file ``log``: a pipe that nobody reads
    can fill up and block the server. A server still running at the end is killed.
    """
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    command = [sys.executable, "main.py", "--port", "0"]
    with (
        log.open("w") as stderr,
        subprocess.Popen(
            command, cwd=LESSON, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        ) as server,
    ):
        # If the server never prints, kill it: readline() then returns "" instead of hanging.
        watchdog = threading.Timer(60, server.kill)
        watchdog.start()
        try:
            assert server.stdout is not None
            # readline() returns as soon as the server prints its URL: a condition, no sleep.
            line = server.stdout.readline()
            assert line.startswith("orders API on http://127.0.0.1:"), log.read_text()
            yield server, line.split()[3]
        finally:
            watchdog.cancel()
            # Stopped by the test even when an assertion failed.
            if server.poll() is None:
                server.kill()


def test_serve_prints_its_url_answers_and_stops_cleanly(tmp_path: Path) -> None:
    with served(tmp_path / "orders.db", tmp_path / "server.log") as (server, base):
        assert httpx.get(f"{base}/health", timeout=5).json() == {"status": "ok"}
        assert len(httpx.get(f"{base}/products", timeout=5).json()) == 4
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert server.wait(timeout=15) == 0


def test_an_unexpected_error_is_a_json_500_and_a_traceback_in_the_log(tmp_path: Path) -> None:
    database, log = tmp_path / "orders.db", tmp_path / "server.log"
    with served(database, log) as (server, base):
        # Break the database under the running server: a failure no handler expects.
        db = sqlite3.connect(database)
        try:
            db.execute("DROP TABLE products")
        finally:
            db.close()
        response = httpx.get(f"{base}/products", timeout=5)
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=15) == 0
    # The client gets the lesson's error shape and nothing of the exception...
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "detail": "internal server error"}
    # ...and the server's log has the whole story.
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "no such table: products" in text


@pytest.mark.parametrize(
    ("test_file", "exit_code"),
    [("tests/unit/test_domain.py", 0), ("tests/unit/test_broken.py", 1)],
    ids=["suite-passes", "suite-fails"],
)
def test_report_writes_the_html_and_exits_with_pytests_status(
    tmp_path: Path, test_file: str, exit_code: int
) -> None:
    lesson = copy_of_lesson(tmp_path)
    (lesson / "tests" / "unit" / "test_broken.py").write_text(BROKEN_TEST)
    # One file, so it takes seconds; --cov-fail-under=0 because one file is not the suite.
    done = run_in(lesson, "main.py", "report", test_file, "--cov-fail-under=0")
    assert done.returncode == exit_code, done.stdout[-3000:]
    html = lesson / "var" / "coverage-html" / "index.html"
    assert done.stdout.strip().splitlines()[-1] == f"coverage report: {html}"
    assert html.is_file()
    assert (lesson / "var" / "junit.xml").is_file()


def test_a_broken_mutation_run_is_one_line_naming_its_log(tmp_path: Path) -> None:
    # A unit test that fails on the unmutated code: mutmut runs the tests once before it
    # makes any mutant, and stops there. A broken run, not a surviving mutant.
    lesson = copy_of_lesson(tmp_path)
    (lesson / "tests" / "unit" / "test_broken.py").write_text(BROKEN_TEST)
    done = run_in(lesson, "main.py", "mutate")
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("mutmut run failed (exit ")
    assert line.endswith("); output: var/mutmut.log")
    assert "broken on purpose" in (lesson / "var" / "mutmut.log").read_text()
    assert not (lesson / "var" / "mutation.txt").exists()  # no score from a broken run


def test_the_quick_bench_never_prints_an_old_mutation_score(tmp_path: Path) -> None:
    lesson = copy_of_lesson(tmp_path)
    (lesson / "var").mkdir()
    (lesson / "var" / "mutation.txt").write_text("mutation score: 12.3% (an earlier run)\n")
    # PostgreSQL out of reach: the bench measures SQLite only, which is quicker.
    done = run_in(lesson, "bench.py", "--quick", env={"DATABASE_URL": NOWHERE})
    assert done.returncode == 0, done.stderr
    assert "12.3%" not in done.stdout
    assert done.stdout.strip().splitlines()[-1] == (
        "orders/domain.py mutation score: measured by the full run (or: python main.py mutate)"
    )
