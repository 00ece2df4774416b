"""Measure fan-out: one instance vs two instances on Redis, and serialising once vs per client.

    python bench.py            full run (100 / 500 / 1,000 clients), writes docs/fanout.png
    python bench.py --quick    small sizes, a few seconds, no plot

Servers run as separate processes (`python main.py`), exactly as a user starts them; all the
clients live in this process so every latency is measured on one clock.
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import redis

from chat.protocol import Message
from chat.settings import masked
from tools.cli import OneLineParser
from tools.loadgen import Room

HERE = Path(__file__).resolve().parent
VAR, DOCS = HERE / "var", HERE / "docs"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"


def header() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    python = platform.python_version()
    print(f"machine: {os.cpu_count()} cores, Python {python}, {platform.platform()}")
    print(f"load average (1/5/15 min): {load}\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def servers(count: int, redis_url: str | None) -> Iterator[list[str]]:
    """Start `count` instances of main.py; with redis_url they share one namespace."""
    VAR.mkdir(exist_ok=True)
    env = {
        **os.environ,
        # The bench sender talks fast and listeners never answer pings: lift those limits.
        "CHAT_RATE_PER_SECOND": "1000000",
        "CHAT_RATE_BURST": "1000000",
        "CHAT_HEARTBEAT_INTERVAL": "3600",
        "CHAT_HEARTBEAT_TIMEOUT": "7200",
        "CHAT_NAMESPACE": f"bench-{secrets.token_hex(4)}",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    procs, urls = [], []
    try:
        for i in range(count):
            port = free_port()
            cmd = [sys.executable, "main.py", "--port", str(port)]
            # The child keeps its own copy of the descriptor; ours is closed right away.
            with (VAR / f"bench-server-{i}.log").open("w") as log:
                procs.append(subprocess.Popen(cmd, cwd=HERE, env=env, stdout=log, stderr=log))
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            wait_healthy(url, proc)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        if redis_url:
            client = redis.Redis.from_url(redis_url)
            keys = list(client.scan_iter(match=f"{env['CHAT_NAMESPACE']}:*"))
            if keys:
                client.delete(*keys)
            client.close()


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server {url} exited with {proc.returncode}; see var/bench-server-*.log")
        try:
            if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    sys.exit(f"server {url} did not become healthy; see var/bench-server-*.log")


async def fanout(
    urls: list[str], sizes: list[int], messages: int, rounds: int
) -> dict[int, list[float]]:
    """For each size: warm up, then `rounds` measured rounds; medians of p50, p99,
    deliveries/s and messages/s."""
    results = {}
    for n in sizes:
        room = Room(urls, n, room=f"bench-{n}")
        await room.open()
        try:
            await room.round(3)  # warm-up: caches, allocations, TCP windows
            measured = [await room.round(messages) for _ in range(rounds)]
        finally:
            await room.close()
        results[n] = [
            statistics.median(r.p50_ms for r in measured),
            statistics.median(r.p99_ms for r in measured),
            statistics.median(r.deliveries_per_s for r in measured),
            statistics.median(r.messages_per_s for r in measured),
        ]
    return results


def serialise(recipients: int, repeats: int) -> tuple[float, float]:
    """Median seconds to prepare one broadcast: dump once and share vs dump per recipient."""
    message = Message(room="lobby", user="ann", text="hello " * 20)
    queues: list[list[str]] = [[] for _ in range(recipients)]

    def once() -> None:
        frame = message.model_dump_json()
        for q in queues:
            q.append(frame)

    def per_client() -> None:
        for q in queues:
            q.append(message.model_dump_json())

    timings = {}
    for name, job in (("once", once), ("per_client", per_client)):
        job()  # warm-up
        samples = []
        for _ in range(repeats):
            for q in queues:
                q.clear()
            t0 = time.perf_counter()
            job()
            samples.append(time.perf_counter() - t0)
        timings[name] = statistics.median(samples)
    return timings["once"], timings["per_client"]


def redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError, ValueError):  # ValueError: not a redis:// URL
        return False


def table(title: str, rows: dict[int, list[float]]) -> None:
    print(title)
    print(f"  {'clients':>8} {'p50 ms':>9} {'p99 ms':>9} {'messages/s':>11} {'deliveries/s':>13}")
    for n, (p50, p99, rate, messages) in rows.items():
        print(f"  {n:>8} {p50:>9.2f} {p99:>9.2f} {messages:>11,.1f} {rate:>13,.0f}")


def plot(memory: dict[int, list[float]], spread: dict[int, list[float]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, rate) = plt.subplots(1, 2, figsize=(10, 4))
    modes = (("1 instance", memory, "o", "C0"), ("2 instances + Redis", spread, "s", "C1"))
    for label, rows, marker, color in modes:
        if not rows:
            continue
        sizes = list(rows)
        lat.plot(
            sizes, [rows[n][0] for n in sizes], f"{marker}-", color=color, label=f"{label} p50"
        )
        lat.plot(
            sizes, [rows[n][1] for n in sizes], f"{marker}:", color=color, label=f"{label} p99"
        )
        rate.plot(sizes, [rows[n][2] for n in sizes], f"{marker}-", color=color, label=label)
    lat.set(xlabel="clients in the room", ylabel="delivery latency (ms)", title="Latency")
    rate.set(xlabel="clients in the room", ylabel="deliveries per second", title="Throughput")
    for ax in (lat, rate):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    load = os.getloadavg()[0]
    fig.suptitle(f"fan-out, {os.cpu_count()} cores, load average {load:.1f}", fontsize=10)
    fig.tight_layout()
    DOCS.mkdir(exist_ok=True)
    out = DOCS / "fanout.png"
    fig.savefig(out, dpi=110)
    return out


def raise_fd_limit(wanted: int = 8192) -> None:
    """One file descriptor per socket: 1,000 clients need more than the common default of 1,024.
    The servers are started from here, so they inherit the raised limit too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args(argv)
    raise_fd_limit()

    sizes = [20, 50] if args.quick else [100, 500, 1000]
    messages, rounds = (5, 2) if args.quick else (20, 3)
    header()
    print(f"fan-out: one sender, {messages} messages x {rounds} rounds per size (after warm-up)\n")

    with servers(1, None) as urls:
        memory = asyncio.run(fanout(urls, sizes, messages, rounds))
    table("one instance, in-memory broker", memory)

    spread: dict[int, list[float]] = {}
    if redis_up():
        with servers(2, REDIS_URL) as urls:
            spread = asyncio.run(fanout(urls, sizes, messages, rounds))
        table("\ntwo instances through Redis pub/sub (clients split evenly)", spread)
        print("\n  ratio redis/memory:", end="")
        for n in sizes:
            print(f"  {n}: p50 x{spread[n][0] / memory[n][0]:.1f}", end="")
        print()
    else:
        hint = "skipped (docker compose up -d redis)"
        print(f"\nRedis not reachable at {masked(REDIS_URL)} - {hint}")

    recipients = sizes[-1]
    once, per_client = serialise(recipients, repeats=5 if args.quick else 21)
    # The serialising step alone, outside the server: what sharing one string saves per broadcast.
    print(f"\nserialising one message for {recipients} recipients, step alone (median)")
    print(f"  once, shared:        {once * 1e6:9.1f} us")
    print(f"  once per recipient:  {per_client * 1e6:9.1f} us")
    print(f"  per-recipient / once: x{per_client / once:.1f}")

    if not args.quick:
        print(f"\nplot: {plot(memory, spread).relative_to(HERE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
