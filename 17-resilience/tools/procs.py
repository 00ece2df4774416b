"""Servers as separate processes for bench.py: their CPU is then not the load generator's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

LESSON = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    """Until /health answers; at once if the process died (its error is on stderr)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy in {timeout_s} s")


@contextmanager
def uvicorn_process(factory: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``uvicorn --factory factory`` on a free port; yields its URL once /health answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port),
           "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log",
           "--no-proxy-headers"]  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RESILIENCE_", "REDIS_"))}
    proc = subprocess.Popen(cmd, cwd=LESSON, env={**clean, **(env or {})})
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/health", proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def server(
    kind: str, settings: dict[str, str] | None = None, own_process: bool = True
) -> Iterator[str]:
    """The API (``kind="api"``, with RESILIENCE_* ``settings``) or a fault injector, in its
    own process (the full bench: its CPU is not the load generator's) or in a thread of this
    one (``--quick``: no interpreter start, which costs seconds on a busy machine)."""
    if own_process:
        factory = {"api": "resilience.api:create_app", "faults": "faults.app:create_app"}[kind]
        env = {f"RESILIENCE_{k.upper()}": v for k, v in (settings or {}).items()}
        with uvicorn_process(factory, env) as url:
            yield url
        return
    from faults.app import create_app as faults_app
    from resilience.api import create_app
    from resilience.settings import Settings
    from tools.serving import ServerThread

    app = (
        faults_app()
        if kind == "faults"
        else create_app(Settings.model_validate({"redis_url": None, **(settings or {})}))
    )
    with ServerThread(app) as running:
        yield running.url
