"""Processes, nginx, wrk and /proc: the plumbing bench.py measures with."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

LESSON = Path(__file__).resolve().parents[1]
# Debian puts nginx in /usr/sbin, which is not on a normal user's PATH.
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # CPU time the proxy process spent per request (0 for direct)


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc (Linux). CPU time, unlike latency, hardly
    depends on what else the machine is doing, so it compares proxies fairly on a busy box."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy in {timeout_s} s")


@contextmanager
def process(cmd: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, cwd=LESSON, env=env, stdout=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def uvicorn_cmd(factory: str, port: int) -> list[str]:
    # uvloop and httptools: uvicorn's fastest event loop and HTTP parser (its "auto" picks
    # them when installed; named here so a missing one fails loudly instead of slowing down).
    return [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port),
            "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log",
            "--no-proxy-headers", "--loop", "uvloop", "--http", "httptools"]  # fmt: skip


def gateway_env(upstream: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "REDIS_URL"))}
    route = {"name": "catalog", "prefix": "/products", "instances": [upstream]}
    env.update(
        GATEWAY_ROUTES=json.dumps([route]),
        GATEWAY_API_KEYS=json.dumps({"bench-key": {"name": "bench"}}),
        # A limit no run reaches: the limiter's cost is measured, its refusals are not.
        GATEWAY_RATE_PER_S="1e9",
        GATEWAY_BURST="1000000000",
        # nginx runs with access_log off too, so neither pays for writing logs.
        GATEWAY_ACCESS_LOG="false",
    )
    return env


NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream catalog {{
        server 127.0.0.1:{upstream_port};
        keepalive 32;  # reuse upstream connections, as the gateway's httpx pool does
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://catalog;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


@contextmanager
def nginx(upstream_port: int, port: int) -> Iterator[subprocess.Popen[bytes]]:
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        os.chmod(tmp, 0o755)  # if started as root, nginx workers run as an unprivileged user
        conf = Path(tmp, "nginx.conf")
        conf.write_text(NGINX_CONF.format(tmp=tmp, upstream_port=upstream_port, port=port))
        cmd = [NGINX, "-p", tmp, "-e", f"{tmp}/error.log", "-c", str(conf), "-g", "daemon off;"]
        with process(cmd) as proc:
            yield proc


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str, seconds: float, connections: int, headers: dict[str, str], pids: list[int]
) -> Load:
    cpu_before = sum(cpu_seconds(p) for p in pids)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: \d+", out):
        raise RuntimeError(f"{url} answered errors under load:\n{out}")

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * UNITS[unit]

    cpu = sum(cpu_seconds(p) for p in pids) - cpu_before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Load(rps, percentile("50"), percentile("99"), cpu / max(requests, 1) * 1e6)
