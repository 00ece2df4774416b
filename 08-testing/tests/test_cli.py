"""``main.py`` and ``bench.py`` as a user runs them: in a subprocess, reading what they print."""

from __future__ import annotations

import os
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

from testkit.lesson import LESSON, copy_of_lesson, run_in
from tools.mutation import PYTEST_ARGS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOWHERE = "postgresql+psycopg://postgres:secret@127.0.0.1:1/lessons"  # nothing listens there
BROKEN_TEST = "def test_broken() -> None:\n    assert 1 + 1 == 3, 'broken on purpose'\n"


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed on stderr (and nothing on stdout)."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and done.stdout == "", (done.stdout, done.stderr)
    return lines[0]


@pytest.mark.parametrize(
    ("command", "env", "line"),
    [
        (["main.py", "--port", "eighty"], {}, "main.py: error: argument --port: invalid int value"),
        (["bench.py", "--fast"], {}, "bench.py: error: unrecognized arguments: --fast"),
        (["main.py"], {"DATABASE_URL": "mysql://db/shop"}, "main.py: bad setting database_url"),
        (
            ["main.py"],
            {"DATABASE_URL": "sqlite:////dev/null/orders/orders.db"},  # no folder there
            "main.py: bad setting database_url",
        ),
        (
            ["main.py"],
            {"DATABASE_URL": "postgresql+psycopg://localhost/shop?sslmode=bogus"},
            'main.py: bad setting database_url: invalid sslmode value: "bogus"',
        ),
        (
            ["main.py", "mutate", "--max-children", "0"],
            {},
            "main.py mutate: error: argument --max-children: must be 1 or more, got 0",
        ),
    ],
    ids=["bad-option", "bench-bad-option", "mysql", "sqlite-folder", "sslmode", "no-workers"],
)
def test_a_bad_argument_is_one_line_on_stderr_and_exit_2(
    command: list[str], env: dict[str, str], line: str
) -> None:
    done = run_in(LESSON, *command, env=env, timeout=60)
    assert done.returncode == 2
    assert one_line(done).startswith(line)


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
    assert one_line(done).startswith("main.py: bad setting log_level:")


def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sqlite = {"DATABASE_URL": f"sqlite:///{tmp_path / 'orders.db'}"}
        done = run_in(LESSON, "main.py", "--port", str(port), env=sqlite, timeout=30)
    assert done.returncode == 1
    assert one_line(done) == (
        f"cannot listen on 127.0.0.1:{port}: Address already in use (--port 0 picks a free port)"
    )


def test_a_missing_postgres_is_one_line_naming_the_fix() -> None:
    # Port 1 on localhost: nothing listens there, the connection is refused at once.
    done = run_in(LESSON, "main.py", env={"DATABASE_URL": NOWHERE}, timeout=30)
    assert done.returncode == 1
    assert one_line(done) == (
        "PostgreSQL not reachable at postgresql+psycopg://postgres:***@127.0.0.1:1/lessons"
        " - run: docker compose up -d postgres"
    )


@pytest.mark.postgres
@pytest.mark.parametrize("problem", ["unknown-user", "missing-database"])
def test_a_running_postgres_that_says_no_is_not_a_stopped_server(
    postgres_server: str, problem: str
) -> None:
    server = make_url(postgres_server).set(drivername="postgresql+psycopg")
    if problem == "unknown-user":
        url = server.set(username="no_such_role_08", password="secret")
        expected = (
            f"PostgreSQL at {url.render_as_string()} refused the login of user 'no_such_role_08'"
            ' (role "no_such_role_08" does not exist) - check the user and password in'
            " DATABASE_URL"
        )
    else:
        url = server.set(database="no_such_db_08_testing")
        expected = (
            f"PostgreSQL database 'no_such_db_08_testing' does not exist at"
            f" {url.render_as_string()} - create it: docker compose exec postgres createdb"
            " -U postgres no_such_db_08_testing"
        )
    done = run_in(
        LESSON, "main.py", env={"DATABASE_URL": url.render_as_string(hide_password=False)}
    )
    assert done.returncode == 1
    assert one_line(done) == expected  # render_as_string() masks the password
    assert "secret" not in done.stderr


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


def test_serve_answers_a_broken_database_with_a_json_500_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    database, log = tmp_path / "orders.db", tmp_path / "server.log"
    with served(database, log) as (server, base):
        assert httpx.get(f"{base}/health", timeout=5).json() == {"status": "ok"}
        assert len(httpx.get(f"{base}/products", timeout=5).json()) == 4
        # Break the database under the running server: a failure no handler expects.
        with sqlite3.connect(database) as db:
            db.execute("DROP TABLE products")
        db.close()
        response = httpx.get(f"{base}/products", timeout=5)
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert server.wait(timeout=15) == 0
    # The client gets the lesson's error shape and nothing of the exception...
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "detail": "internal server error"}
    # ...and the server's log has the whole story.
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "no such table: products" in text


def test_report_writes_the_html_and_exits_with_pytests_status(tmp_path: Path) -> None:
    lesson = copy_of_lesson(tmp_path)
    (lesson / "tests" / "unit" / "test_broken.py").write_text(BROKEN_TEST)
    # Two files, so it takes seconds; --cov-fail-under=0 because two files are not the suite.
    files = ["tests/unit/test_domain.py", "tests/unit/test_broken.py"]
    done = run_in(lesson, "main.py", "report", *files, "--cov-fail-under=0")
    assert done.returncode == 1, done.stdout[-3000:]  # pytest's status: a test failed
    html = lesson / "var" / "coverage-html" / "index.html"
    assert done.stdout.strip().splitlines()[-1] == f"coverage report: {html}"
    assert html.is_file() and (lesson / "var" / "junit.xml").is_file()

    # pytest's own usage error is one line too, and a run that wrote no report names none,
    # though an old one is there.
    again = run_in(lesson, "main.py", "report", "--bogus")
    assert again.returncode == 2
    assert one_line(again) == "main.py report: error: unrecognized arguments: --bogus"


def test_a_broken_mutation_run_is_one_line_naming_its_log(tmp_path: Path) -> None:
    # A unit test that fails on the unmutated code: mutmut runs the tests once before it
    # makes any mutant, and stops there. A broken run, not a surviving mutant.
    lesson = copy_of_lesson(tmp_path)
    (lesson / "tests" / "unit" / "test_broken.py").write_text(BROKEN_TEST)
    done = run_in(lesson, "main.py", "mutate")
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("mutmut run failed (exit ")
    assert line.endswith("); output: var/mutmut.log")
    assert "broken on purpose" in (lesson / "var" / "mutmut.log").read_text()
    assert not (lesson / "var" / "mutation.txt").exists()  # no score from a broken run


def test_the_mutation_run_uses_the_fixed_hypothesis_examples() -> None:
    # The "dev" profile explores new examples every run, so a mutant could be killed on
    # one run and survive the next: the mutation run pins "ci", whatever the environment says.
    command = ["-m", "pytest", *PYTEST_ARGS, "-vv", "--collect-only", "tests/unit/test_time.py"]
    done = run_in(LESSON, *command, env={"HYPOTHESIS_PROFILE": "dev"}, timeout=60)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "hypothesis profile 'ci'" in done.stdout


def test_tiers_come_from_the_path_inside_the_lesson_not_above_it(tmp_path: Path) -> None:
    # A checkout under a folder called "integration": the unit tests are still unit tests.
    lesson = copy_of_lesson(tmp_path / "integration")
    files = ["tests/unit/test_doubles.py", "tests/integration/test_isolation.py"]
    command = ["-m", "pytest", "-q", "--no-cov", "-p", "no:randomly", "--collect-only", *files]
    done = run_in(lesson, *command, "-m", "not integration", timeout=60)
    assert done.returncode == 0, done.stdout[-2000:]  # 5 would mean nothing was selected
    selected = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert selected == {"tests/unit/test_doubles.py"}
