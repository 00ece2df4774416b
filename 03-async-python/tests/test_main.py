"""The command line: the demos run end to end, bad input gets one line and exit code 2."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import main

LESSON = Path(__file__).resolve().parents[1]


def test_fetch_demo_prints_both_timelines_and_a_speedup(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["fetch", "-n", "4", "--latency-ms", "5", "-c", "2"]) == 0

    out = capsys.readouterr().out
    assert "sequential:" in out and "at most 1 in flight" in out
    assert "bounded, 2 at once:" in out and "at most 2 in flight" in out
    assert len(re.findall(r"^\s+\d+ \|", out, re.M)) == 8  # 4 rows per timeline
    assert "speedup" in out


def test_the_ideal_counts_the_rounds_of_the_bounded_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["fetch", "-n", "10", "--latency-ms", "5", "-c", "3"]) == 0

    assert "(ideal 2.5x: 10 requests in 4 rounds of at most 3)" in capsys.readouterr().out


def test_help_explains_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "main.py", "--help"], cwd=LESSON, capture_output=True, text=True
    )

    assert result.returncode == 0
    for option, says in [
        ("--requests N", "URLs the fetch demo fetches, 1-1000 (default: 20, or ASYNC_REQUESTS)"),
        ("--latency-ms N", "milliseconds the local server waits per answer"),
        ("--concurrency N", "requests in flight at once in the bounded run"),
        ("{fetch,basics", "which demo to run (default: fetch)"),
    ]:
        assert option in result.stdout
        assert says in " ".join(result.stdout.split())  # argparse wraps the help text


@pytest.mark.parametrize("demo", ["basics", "failures", "pipeline", "lifecycle"])
def test_other_demos_run(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main([demo]) == 0
    assert f"== {demo} ==" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "0"], "0 is not between 1 and 1000"),
        (["--latency-ms", "fast"], "'fast' is not a whole number"),
        (["-c", "5000"], "5000 is not between 1 and 1000"),
        (["nope"], "invalid choice: 'nope'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "main.py", *args], cwd=LESSON, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("script", ["main.py", "bench.py"])
def test_an_unknown_option_gives_one_line_and_exit_2(script: str) -> None:
    result = subprocess.run(
        [sys.executable, script, "--fast"], cwd=LESSON, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert result.stderr == f"{script}: error: unrecognized arguments: --fast\n"


def test_a_bad_setting_in_the_environment_is_named(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ASYNC_CONCURRENCY", "0")

    assert main.main([]) == 2
    assert "ASYNC_CONCURRENCY" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_ctrl_c_stops_cleanly_with_one_line_and_no_process_left() -> None:
    # A real Ctrl-C: SIGINT to the whole process group, the lesson and its server child alike.
    proc = subprocess.Popen(
        [sys.executable, "-u", "main.py", "-n", "3", "--latency-ms", "5000"],
        cwd=LESSON, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = iter(proc.stdout.readline, "")
        assert any("Fetching" in line for line in lines)  # the server is up, a fetch waits
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    assert proc.returncode == 130
    assert err == "main.py: interrupted\n"
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nobody is left in the group: the server child is gone too
