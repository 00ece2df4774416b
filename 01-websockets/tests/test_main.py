"""The command line as a learner uses it: run main.py and check what it printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from websockets.sync.client import connect

LESSON = Path(__file__).resolve().parents[1]


def run_main(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script("main.py", *args, **env)


def run_script(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    environment.pop("REDIS_URL", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=LESSON,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_runs_the_whole_story_and_exits_0() -> None:
    result = run_main("demo")
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "--port must be between 0 and 65535, got 70000"),
        (["--port", "abc"], "argument --port: invalid int value: 'abc'"),
        # Python versions word the list of choices differently: the test stops before it.
        (["chat"], "argument command: invalid choice: 'chat'"),
    ],
)
def test_bad_argument_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run_main(*args)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()  # one line: no usage dump before it
    assert line.startswith(f"main.py: error: {message}")
    assert result.stdout == ""


def test_bench_bad_argument_is_one_line_and_exit_2() -> None:
    result = run_script("bench.py", "--fast")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["bench.py: error: unrecognized arguments: --fast"]
    assert result.stdout == ""


def test_missing_redis_is_one_line_naming_url_and_command() -> None:
    result = run_main("demo", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Redis not reachable at redis://127.0.0.1:1/0 - run: docker compose up -d redis"
    )
    assert result.stdout == ""


def test_bad_setting_is_one_line() -> None:
    result = run_main("demo", CHAT_SECRET="short")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "bad setting secret: String should have at least 32 characters"
    ]


def test_a_malformed_redis_url_is_a_bad_setting_not_a_traceback() -> None:
    result = run_main("demo", REDIS_URL="localhost:6379")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "bad setting REDIS_URL: Value error, must start with redis://, rediss:// or unix://"
    ]


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
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    environment.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "main.py", "--port", "0"],
        cwd=LESSON,
        env=environment,
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
