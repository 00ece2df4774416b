"""main.py end to end, as a learner runs it: output, bad input, and Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from conftest import LESSON, open_when_read, serve, sigint_pending, wait_until

from parallel.corpus import write_corpus


def _env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARALLEL_")}
    return env | {"PARALLEL_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"} | extra


def _main(args: list[str], var_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "--no-progress", *args],
        cwd=LESSON,
        env=_env(var_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("strategy", ["processes", "pool", "pipeline", "threads"])
def test_main_counts_serially_and_in_parallel_and_compares(tmp_path: Path, strategy: str) -> None:
    done = _main(["--size", "0.25", "--strategy", strategy], tmp_path, PARALLEL_SHARD_KB="16")
    assert done.returncode == 0, done.stderr
    assert "corpus: 16 shards" in done.stdout
    assert "results identical: yes" in done.stdout
    assert "speedup:" in done.stdout


def test_the_job_line_names_the_size_actually_counted(tmp_path: Path) -> None:
    # 0.01 MB is less than one 16 KB shard: the corpus is rounded up to that one shard.
    done = _main(["--size", "0.01", "--strategy", "threads"], tmp_path, PARALLEL_SHARD_KB="16")
    assert done.returncode == 0, done.stderr
    assert "job: word count over 0.015625 MB, threads with" in done.stdout
    assert "corpus: 1 shards" in done.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--workers", "0"], {}, "argument --workers: expected a whole number"),
        (["--workers", "many"], {}, "argument --workers: expected a whole number"),
        (["--workers", "²"], {}, "argument --workers: expected a whole number"),
        (["--size", "-3"], {}, "argument --size: expected megabytes"),
        (["--strategy", "gpu"], {}, "argument --strategy: invalid choice"),
        ([], {"PARALLEL_WORKERS": "x"}, "setting PARALLEL_WORKERS"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    done = _main(args, tmp_path, **env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert done.stdout == ""


def test_a_corrupt_shard_is_reported_by_name_and_exits_1(tmp_path: Path) -> None:
    assert _main(["--size", "0.0625"], tmp_path, PARALLEL_SHARD_KB="16").returncode == 0
    shard = next(tmp_path.rglob("shard-00002.txt"))
    shard.write_bytes(b"\xff\xfe not utf-8")  # one bad file in an otherwise good corpus
    done = _main(["--size", "0.0625"], tmp_path, PARALLEL_SHARD_KB="16")
    assert done.returncode == 1
    assert done.stderr == (
        "main.py: error: ValueError: shard-00002.txt is not UTF-8 text "
        "(byte 0: invalid start byte)\n"
    )
    assert "results identical" not in done.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")
@pytest.mark.parametrize("strategy", ["processes", "pool", "pipeline"])
def test_ctrl_c_during_the_parallel_run_leaves_no_process_behind(
    tmp_path: Path, strategy: str
) -> None:
    # Given a corpus in which one shard is a FIFO: reading it waits until this test writes it,
    # like a shard on a stalled network disk. The parallel run cannot finish before the Ctrl-C
    # however fast the machine is, and what gets interrupted is main.py's own, unmodified code.
    shards = write_corpus(tmp_path, 0.25, seed=42, shard_kb=16)
    stalled = shards[5]
    text = stalled.read_bytes()
    stalled.unlink()
    os.mkfifo(stalled)
    proc = subprocess.Popen(
        [sys.executable, "main.py", "--no-progress", "--size", "0.25", "--strategy", strategy],
        cwd=LESSON,
        env=_env(tmp_path, PARALLEL_SHARD_KB="16", PARALLEL_SEED="42", PARALLEL_WORKERS="2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
    )
    try:
        serve(open_when_read(stalled), text)  # the serial run reads the shard in full
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("parallel: starting"):  # the serial run has closed the shard
                break
        held = open_when_read(stalled)  # when a worker is inside count_file, waiting on it
        family = psutil.Process(proc.pid).children(recursive=True)  # workers, server, tracker
        # Ctrl-C in a terminal signals the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
        # The shard is released only once main.py has taken the signal: the run is interrupted
        # mid-way by construction, not by winning a race against the workers.
        assert wait_until(lambda: not sigint_pending(proc.pid), 20)
        serve(held, text)  # the running task may finish; nothing new starts
        out, err = proc.communicate(timeout=60)
    finally:
        # On a failed test, kill the whole group: killing main.py alone would leave its
        # workers and fork server running after the test.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, f"stdout={out!r} stderr={err!r}"
    assert "interrupted" in err and "Traceback" not in err
    # The resource tracker warns at exit about semaphores or segments nobody released
    # ("leaked semaphore objects to clean up"). That is a leak, so it fails the test too.
    assert "resource_tracker" not in err, err
    assert err.count("\n") == 1, err
    # Then no worker, forkserver or tracker outlives the program
    assert wait_until(lambda: not any(p.is_running() for p in family), 10), family
