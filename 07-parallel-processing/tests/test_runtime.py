"""The runtime probes: GIL detection, start methods, the SIGINT mask, machine idleness."""

from __future__ import annotations

import multiprocessing as mp
import signal
import sys

import pytest

from parallel import runtime
from tools import machine


def test_gil_detection_follows_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert runtime.gil_enabled() is False  # a free-threaded build running without the GIL
    monkeypatch.delattr(sys, "_is_gil_enabled")
    assert runtime.gil_enabled() is True  # before 3.13 every CPython has one


def test_the_default_start_method_exists_here_and_is_never_fork() -> None:
    method = runtime.default_start_method()
    assert method in mp.get_all_start_methods()
    assert method != "fork"
    assert runtime.mp_context().get_start_method() == method


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="no signal masks here")
def test_sigint_is_blocked_inside_the_block_and_restored_after() -> None:
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    with runtime.sigint_blocked():
        assert signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
def test_idle_share_is_a_fraction_of_the_machine() -> None:
    share = machine.idle_share(0.05)
    assert share is not None and 0.0 <= share <= 1.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/stat")
def test_cpu_seconds_of_a_process_grow_while_it_computes() -> None:
    import os
    import time

    before = machine.cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:  # 50 ms of CPU, whatever the wall clock does
        pass
    after = machine.cpu_seconds(os.getpid())
    assert before is not None and after is not None and after - before >= 0.03


def test_the_header_names_cores_python_and_gil() -> None:
    header = machine.machine_header()
    assert f"{runtime.cpu_count()}" in header and "Python 3." in header and "GIL" in header
