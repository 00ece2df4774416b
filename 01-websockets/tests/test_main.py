"""The command line as a learner uses it: what main.py and bench.py print, and their exit codes.

Two tests start `python main.py` for real (the demo, the server's log); the error paths call
`main()` in this process, which runs the same code without paying for a Python start-up each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from websockets.sync.client import connect

import bench
import main

LESSON = Path(__file__).resolve().parents[1]

Run = Callable[..., tuple[int, str, str]]


def clean_environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    environment.pop("REDIS_URL", None)
    return environment


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Run:
    """`run("main.py", "demo", REDIS_URL=...)`: the script's main() with those arguments and
    only those settings (no CHAT_* from outside, no .env); returns (exit code, stdout, stderr)."""

    def invoke(script: str, *args: str, **env: str) -> tuple[int, str, str]:
        for name in os.environ:
            if name.startswith("CHAT_") or name == "REDIS_URL":
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)  # a learner's .env must not change the outcome
        monkeypatch.setattr(sys, "argv", [script, *args])
        entry = {"main.py": main.main, "bench.py": bench.main}[script]
        try:
            code = entry(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_demo_runs_the_whole_story_and_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, "main.py", "demo"],
        cwd=LESSON,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "bob    <- [general] alice: hi bob",
        "carol  <- (direct) alice -> carol: psst, lunch?",
        "dave   <- error bad_json: frame is not valid JSON",
        "alice  <- [general] presence: ghost left (heartbeat timeout), 2 here",
        "ghost  <- connection closed by the server, code 1011",
        "demo finished",
    ):
        assert expected in out
    # Rooms are isolated: nobody in #random heard #general.
    assert "carol  <- [general]" not in out and "dave   <- [general]" not in out


def wait_until_serving(url: str, within: float = 20.0) -> None:
    """The port is bound before uvicorn listens on it: poll until it answers."""
    deadline = time.monotonic() + within
    while True:
        try:
            httpx2.get(f"{url}/health", timeout=1)
            return
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_the_server_log_never_shows_a_token_from_the_query_string() -> None:
    """uvicorn logs each request path; /ws?token=... would put a live session token in it."""
    server = subprocess.Popen(
        [sys.executable, "main.py", "--port", "0"],
        cwd=LESSON,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()  # "chat on http://127.0.0.1:PORT  (...)"
        url = first.split()[2]
        wait_until_serving(url)
        token = httpx2.post(f"{url}/session", json={"name": "ann"}).json()["token"]
        with connect(f"{url.replace('http', 'ws', 1)}/ws?token={token}") as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        assert httpx2.get(f"{url}/health?token={token}").status_code == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert token not in out + err
    # The requests were logged, with the value hidden.
    assert '"WebSocket /ws?token=[redacted]" [accepted]' in err
    assert '"GET /health?token=[redacted] HTTP/1.1" 200' in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "--port must be between 0 and 65535, got 70000"),
        (["--port", "abc"], "argument --port: invalid int value: 'abc'"),
        # Python versions word the list of choices differently: the test stops before it.
        (["chat"], "argument command: invalid choice: 'chat'"),
    ],
)
def test_bad_argument_is_one_line_and_exit_2(run: Run, args: list[str], message: str) -> None:
    code, out, err = run("main.py", *args)
    assert code == 2
    [line] = err.splitlines()  # one line: no usage dump before it
    assert line.startswith(f"main.py: error: {message}")
    assert out == ""


def test_bench_bad_argument_is_one_line_and_exit_2(run: Run) -> None:
    code, out, err = run("bench.py", "--fast")
    assert code == 2
    assert err.splitlines() == ["bench.py: error: unrecognized arguments: --fast"]
    assert out == ""


def test_missing_redis_is_one_line_naming_url_and_command(run: Run) -> None:
    code, out, err = run("main.py", "demo", REDIS_URL="redis://127.0.0.1:1/0")
    assert code == 1
    assert err.splitlines() == [
        "Redis not reachable at redis://127.0.0.1:1/0 - run: docker compose up -d redis"
    ]
    assert out == ""


def test_the_password_in_redis_url_is_masked_when_redis_is_missing(run: Run) -> None:
    code, _, err = run("main.py", "demo", REDIS_URL="redis://ann:hunter2@127.0.0.1:1/0")
    assert code == 1
    assert err.splitlines() == [
        "Redis not reachable at redis://ann:***@127.0.0.1:1/0 - run: docker compose up -d redis"
    ]


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"CHAT_SECRET": "short"},
            "bad setting CHAT_SECRET: String should have at least 32 characters",
        ),
        (
            {"REDIS_URL": "localhost:6379"},
            "bad setting REDIS_URL: Value error, must start with redis://, rediss:// or unix://",
        ),
        (
            {"REDIS_URL": "redis://127.0.0.1:notaport/0"},
            "bad setting REDIS_URL: Value error, Port could not be cast to integer value as "
            "'notaport' in redis://127.0.0.1:notaport/0",
        ),
        (
            {"REDIS_URL": "redis://:hunter2@127.0.0.1:99999/0"},
            "bad setting REDIS_URL: Value error, Port out of range 0-65535 in "
            "redis://:***@127.0.0.1:99999/0",
        ),
        (
            {"REDIS_URL": "redis://hunter2@127.0.0.1:6379/first"},
            "bad setting REDIS_URL: Value error, the database must be a number, not 'first', "
            "in redis://***@127.0.0.1:6379/first",
        ),
        (
            {"CHAT_HEARTBEAT_INTERVAL": "10", "CHAT_HEARTBEAT_TIMEOUT": "10"},
            "bad setting CHAT_HEARTBEAT_TIMEOUT: Value error, must be longer than "
            "CHAT_HEARTBEAT_INTERVAL (10 s), or a client that answers every ping is dropped "
            "as silent",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(run: Run, env: dict[str, str], line: str) -> None:
    code, out, err = run("main.py", "demo", **env)
    assert (code, out) == (2, "")
    assert err.splitlines() == [line]  # one line, no traceback, no password
    assert "hunter2" not in err
