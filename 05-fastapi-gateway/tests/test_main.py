"""``main.py`` as a learner runs it: the demo exits 0; bad arguments (of ``bench.py`` too) and a
missing Redis do not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import bench
import main

LESSON = Path(__file__).resolve().parents[1]


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_script("main.py", *args, env=env)


def run_script(
    script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=LESSON,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_demo_runs_the_tour_and_exits_0() -> None:
    result = run_main("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "rate limits kept in memory" in out  # no REDIS_URL: the embedded default
    assert "call 4 -> 429" in out
    assert "GET /users/1 -> 503 upstream_unavailable" in out
    assert "composite -> degraded=True" in out
    assert out.rstrip().endswith("demo finished: every step answered as expected")


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("main.py", ["--port", "70000"], "main.py: error: --port must be 0-65535, got 70000"),
        ("main.py", ["--port", "abc"], "main.py: error: argument --port: invalid int value: 'abc'"),
        ("bench.py", ["--connections", "0"], "bench.py: error: --connections must be at least 1"),
    ],
)
def test_bad_argument_is_one_line_on_stderr_and_exit_2(
    script: str,
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In process (argparse exits before anything starts); the prog name is the script's.
    monkeypatch.setattr(sys, "argv", [script, *args])
    with pytest.raises(SystemExit) as exited:
        main.main() if script == "main.py" else bench.main()
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert err == message + "\n"  # the message only, no usage block
    assert out == ""


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEWAY_BURST", "lots", "GATEWAY_BURST: Input should be a valid integer"),
        ("GATEWAY_ROUTES", "[{", 'error parsing value for field "routes"'),
        ("GATEWAY_ROUTES", "[]", "GATEWAY_ROUTES: List should have at least 1 item"),
        # The value is a secret here (an API key): the message must not repeat it.
        ("GATEWAY_API_KEYS", '{"s3cret-key": {"name": "has spaces"}}', "GATEWAY_API_KEYS: "),
        ("SERVICE_SEED", "maybe", "SERVICE_SEED: Input should be a valid boolean"),
        # Configuration errors, not "Redis not reachable": no server could fix them.
        ("REDIS_URL", "localhost:6379", "REDIS_URL: must start with redis://"),
        ("REDIS_URL", "redis://:s3cret-key@localhost:notaport/0", "REDIS_URL: the port must"),
        ("REDIS_URL", "redis://localhost:70000/0", "REDIS_URL: the port must be a number"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable_and_exit_2(
    variable: str,
    value: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In process: the settings are refused before anything starts, so no server runs.
    monkeypatch.setenv(variable, value)
    assert main.main(["demo"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("main.py: error: bad setting ")
    assert message in err
    assert "s3cret-key" not in err


def test_missing_redis_is_one_line_and_exit_1() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    result = run_main("demo", env={"REDIS_URL": url})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Redis not reachable at {url} - run: docker compose up -d redis"
    )
    assert "Traceback" not in result.stderr


def test_busy_port_is_one_line_and_exit_1() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = run_main("--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"cannot listen on 127.0.0.1:{port}")


def test_serve_names_configured_clients_but_never_their_keys() -> None:
    keys = '{"s3cret-key": {"name": "partner", "routes": ["catalog"]}}'
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "REDIS_URL"))}
    env = {**clean, "GATEWAY_API_KEYS": keys, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "main.py", "--port", "0"],
        cwd=LESSON,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    banner = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # ends early if main.py exits
            banner.append(line)
            if line.startswith("Ctrl-C stops everything."):
                break
    finally:
        proc.terminate()  # not SIGINT: a process started in the background may ignore it
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out = "".join(banner)
    assert "Ctrl-C stops everything." in out, out
    assert "partner (catalog)" in out
    assert "s3cret-key" not in out and "demo-key" not in out
    assert '-H "X-API-Key: $API_KEY"' in out
