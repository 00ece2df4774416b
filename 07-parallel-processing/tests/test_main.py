"""main.py end to end, as a learner runs it: output, bad input, and Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from conftest import (
    LESSON,
    open_when_read,
    process_group,
    serve,
    sigint_pending,
    wait_until,
)

import main
from tools.corpus import write_corpus


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
    # The pool's start-up is timed on its own line, so the speedup is the work's alone; the
    # pipeline starts its own processes and says that its time includes them.
    if strategy == "pipeline":
        assert "(includes starting the workers)" in done.stdout
    else:
        assert "s to start and warm the workers (paid once)" in done.stdout
        assert "s counting on the warm pool" in done.stdout
        if sys.platform.startswith("linux"):  # per-process CPU from /proc
            assert "(the workers got " in done.stdout and " cores)" in done.stdout


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


def _stall_a_shard(var_dir: Path, size_mb: float) -> tuple[Path, bytes]:
    """Write the corpus main.py will count, then turn shard 5 into a FIFO: whoever reads it
    waits until the test serves it. Return the FIFO and the text it stands for."""
    shards = write_corpus(var_dir, size_mb, seed=42, shard_kb=16)
    stalled = shards[5]
    text = stalled.read_bytes()
    stalled.unlink()
    os.mkfifo(stalled)
    return stalled, text


def _main_in_its_own_group(
    var_dir: Path, size_mb: float, strategy: str
) -> contextlib.AbstractContextManager[subprocess.Popen[str]]:
    """main.py on the corpus of _stall_a_shard, with two workers, as a shell job."""
    args = ["--no-progress", "--size", str(size_mb), "--strategy", strategy]
    return process_group(
        [sys.executable, "main.py", *args],
        cwd=LESSON,
        env=_env(var_dir, PARALLEL_SHARD_KB="16", PARALLEL_SEED="42", PARALLEL_WORKERS="2"),
    )


def _held_by_a_worker(proc: subprocess.Popen[str], stalled: Path, text: bytes) -> int:
    """Let the serial run read the stalled shard in full, then wait until a worker of the
    parallel run is inside count_file, waiting on it. Return the FIFO's write end."""
    serve(open_when_read(stalled), text)  # the serial run reads the shard in full
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("parallel: starting"):  # the serial run has closed the shard
            break
    return open_when_read(stalled)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")
@pytest.mark.parametrize("strategy", ["processes", "pool", "pipeline"])
def test_ctrl_c_during_the_parallel_run_leaves_no_process_behind(
    tmp_path: Path, strategy: str
) -> None:
    # Given a corpus in which one shard is a FIFO: reading it waits until this test writes it,
    # like a shard on a stalled network disk. The parallel run cannot finish before the Ctrl-C
    # however fast the machine is, and what gets interrupted is main.py's own, unmodified code.
    stalled, text = _stall_a_shard(tmp_path, 0.25)
    with _main_in_its_own_group(tmp_path, 0.25, strategy) as proc:
        held = _held_by_a_worker(proc, stalled, text)
        family = psutil.Process(proc.pid).children(recursive=True)  # workers, server, tracker
        # Ctrl-C in a terminal signals the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
        # The shard is released only once main.py has taken the signal: the run is interrupted
        # mid-way by construction, not by winning a race against the workers.
        assert wait_until(lambda: not sigint_pending(proc.pid), 20)
        serve(held, text)  # the running task may finish; nothing new starts
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, f"stdout={out!r} stderr={err!r}"
    assert "interrupted" in err and "Traceback" not in err
    # The resource tracker warns at exit about semaphores or segments nobody released
    # ("leaked semaphore objects to clean up"). That is a leak, so it fails the test too.
    assert "resource_tracker" not in err, err
    assert err.count("\n") == 1, err
    # Then no worker, forkserver or tracker outlives the program
    assert wait_until(lambda: not any(p.is_running() for p in family), 10), family


def test_every_failed_shard_is_named_not_only_the_first(tmp_path: Path) -> None:
    # The serial run would stop at the first bad shard, so the parallel run is called directly.
    shards = write_corpus(tmp_path, 4 * 16 / 1024, shard_kb=16)
    for bad in (shards[1], shards[3]):
        bad.write_bytes(b"\xff\xfe not utf-8")
    args = argparse.Namespace(strategy="pipeline", workers=2, start_method=None)
    with pytest.raises(main.JobFailed) as info:
        main.count_parallel(args, shards, show=False)
    first_line, *traceback = str(info.value).splitlines()
    assert first_line == (
        "2 of 4 shards failed in a worker: shard-00001.txt, shard-00003.txt; nothing was counted."
        " The first one's traceback:"
    )
    assert "shard-00001.txt is not UTF-8 text" in traceback[-1]


def _process_reading(fifo: Path, family: list[psutil.Process]) -> psutil.Process | None:
    """The process with `fifo` open (psutil lists only regular files, so read /proc)."""
    for proc in family:
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) == str(fifo) for fd in Path(f"/proc/{proc.pid}/fd").iterdir()):
                return proc
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/fd")
def test_a_worker_killed_mid_shard_names_the_shard_and_says_what_to_do(tmp_path: Path) -> None:
    # Given a worker stopped inside count_file on a stalled shard
    stalled, text = _stall_a_shard(tmp_path, 0.125)
    with _main_in_its_own_group(tmp_path, 0.125, "pipeline") as proc:
        held = _held_by_a_worker(proc, stalled, text)
        family = psutil.Process(proc.pid).children(recursive=True)
        worker: list[psutil.Process | None] = [None]

        def found() -> bool:
            worker[0] = _process_reading(stalled, family)
            return worker[0] is not None

        assert wait_until(found)
        # When it is killed, as the out-of-memory killer would
        assert worker[0] is not None
        worker[0].kill()
        os.close(held)
        out, err = proc.communicate(timeout=60)
    # Then one line names the shard and says what to try; nothing else is left running
    assert proc.returncode == 1, f"stdout={out!r} stderr={err!r}"
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("main.py: error: a worker process died while counting shard-00005.txt")
    assert "exited with code -9" in err and "fewer --workers" in err
    assert ".partial" not in err  # an attribute of an exception is no use on a command line
    assert "results identical" not in out
    assert wait_until(lambda: not any(p.is_running() for p in family), 10), family
