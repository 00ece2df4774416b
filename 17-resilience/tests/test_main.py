"""``main.py`` and ``bench.py`` as a learner runs them: the demo exits 0 with no service; a bad
argument or setting is one line and exit 2; a missing Redis is one line and exit 1; no
password is ever printed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import bench
import main

LESSON = Path(__file__).resolve().parents[1]


def run(
    script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RESILIENCE_", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=LESSON,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_prints_a_table_per_pattern_and_exits_0() -> None:
    result = run("main.py", "demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in ("Rate limits at a window edge", "Backoff:", "Rate limiting through the API",
                  "Retries: 100 GETs, the upstream is down", "Deadlines:", "Bulkheads:",
                  "Load shedding:"):  # fmt: skip
        assert title in out, title
    # Numbers that do not depend on timing: the edge burst and the retry amplification.
    assert columns(out, "fixed: 40 calls")[:3] == ["80", "-", "40"]
    assert columns(out, "gcra: 40 calls")[:3] == ["80", "-", "20"]
    down = out[out.index("the upstream is down") :]
    assert columns(down, "3 attempts ")[:4] == ["100", "300", "0", "3.00x"]
    assert out.rstrip().endswith("demo finished")


def columns(out: str, label: str) -> list[str]:
    """calls, upstream, succeeded, amplification, p50, p99 of the first row with label."""
    line = next(line for line in out.splitlines() if line.strip().startswith(label))
    return line.split()[-6:]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No RESILIENCE_* or REDIS_URL from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("RESILIENCE_", "REDIS_URL")):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "main.py: error: --port must be 0-65535, got 70000"),
        (["--port", "x"], "main.py: error: argument --port: invalid int value: 'x'"),
        (
            ["fly"],
            "main.py: error: argument command: invalid choice: 'fly' (choose from 'demo', 'serve')",
        ),  # fmt: skip
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main.main(argv)
    out, err = capsys.readouterr()
    assert (exit_.value.code, err, out) == (2, message + "\n", "")


def test_bench_refuses_a_bad_argument_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["bench.py", "--fast"])
    with pytest.raises(SystemExit) as exit_:
        bench.main()
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "bench.py: error: unrecognized arguments: --fast\n"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"REDIS_URL": "http://user:s3cret@host/0"},
            "bad setting REDIS_URL: must start with redis://, rediss:// or unix://, "
            "got http://user:***@host/0",
        ),
        (
            {"REDIS_URL": "redis://user:s3cret@host:port/0"},
            "bad setting REDIS_URL: has a port that is not a number 0-65535",
        ),
        ({"RESILIENCE_RATE_LIMIT": "0"}, "bad setting RESILIENCE_RATE_LIMIT: "),
        ({"RESILIENCE_RATE_ALGORITHM": "leaky"}, "bad setting RESILIENCE_RATE_ALGORITHM: "),
        ({"RESILIENCE_INVENTORY_URL": "ftp://x"}, "bad setting RESILIENCE_INVENTORY_URL: "),
        (
            {"RESILIENCE_BACKOFF_BASE_S": "5", "RESILIENCE_BACKOFF_CAP_S": "1"},
            "backoff_base_s must not be above backoff_cap_s",
        ),
        (
            {"RESILIENCE_RATE_LIMIT": "1000", "RESILIENCE_RATE_WINDOW_S": "0.0001"},
            "too short for 1000 requests",
        ),
    ],  # fmt: skip
)
def test_a_bad_setting_is_one_line_naming_it_with_the_password_masked(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("main.py: error: bad setting ")
    assert message in err
    assert "s3cret" not in err


def test_missing_redis_is_one_line_with_the_password_masked_and_exit_1(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clean_env.setenv("REDIS_URL", f"redis://:s3cret@127.0.0.1:{port}/0")
    assert main.main(["serve"]) == 1
    masked = f"redis://:***@127.0.0.1:{port}/0"
    expected = f"Redis not reachable at {masked} - run: docker compose up -d redis\n"
    assert capsys.readouterr().err == expected


def test_a_busy_port_is_one_line_and_exit_1(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main.main(["serve", "--port", str(port)]) == 1
    assert capsys.readouterr().err.startswith(f"cannot listen on 127.0.0.1:{port}")


def test_serve_answers_until_stopped() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RESILIENCE_", "REDIS_URL"))}
    proc = subprocess.Popen(
        [sys.executable, "main.py", "serve", "--port", "0"],
        cwd=LESSON,
        env={**clean, "PYTHONUNBUFFERED": "1"},
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
        api = next(line.split()[1] for line in banner if line.startswith("API:"))
        assert httpx.get(f"{api}/inventory/1").json()["source"] == "inventory"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "in memory" in "".join(banner)
