"""``main.py`` as a user runs it: in a subprocess, reading what it prints."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

LESSON = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


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


def test_a_missing_postgres_is_one_line_naming_the_fix() -> None:
    # Port 1 on localhost: nothing listens there, the connection is refused at once.
    done = run_main(
        env={"DATABASE_URL": "postgresql+psycopg://postgres:secret@127.0.0.1:1/lessons"}
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "PostgreSQL not reachable at postgresql+psycopg://postgres:***@127.0.0.1:1/lessons"
        " - run: docker compose up -d postgres"
    ]


def test_serve_prints_its_url_answers_and_stops_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'orders.db'}"}
    command = [sys.executable, "main.py", "--port", "0"]
    with subprocess.Popen(
        command, cwd=LESSON, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        # If the server never prints, kill it: readline() then returns "" instead of hanging.
        watchdog = threading.Timer(60, server.kill)
        watchdog.start()
        try:
            assert server.stdout is not None
            # readline() returns as soon as the server prints its URL: a condition, no sleep.
            line = server.stdout.readline()
            assert line.startswith("orders API on http://127.0.0.1:")
            base = line.split()[3]
            assert httpx.get(f"{base}/health", timeout=5).json() == {"status": "ok"}
            assert len(httpx.get(f"{base}/products", timeout=5).json()) == 4
            server.send_signal(signal.SIGINT)  # what Ctrl-C sends
            assert server.wait(timeout=15) == 0
        finally:
            watchdog.cancel()
            # Stopped by the test even when an assertion above failed.
            if server.poll() is None:
                server.kill()
