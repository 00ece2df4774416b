"""What does a gateway cost per request? The same upstream, measured three ways in one run:

    direct      wrk -> catalog service
    nginx       wrk -> nginx (reverse proxy, keepalive pool) -> catalog service
    gateway     wrk -> this gateway (auth, rate limit, request id, timing) -> catalog service

plus rate-limit decisions per second, in memory vs in Redis.

    python bench.py            full run, writes docs/bench.png
    python bench.py --quick    a few seconds per target, no plot (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from gateway.ratelimit import MemoryRateLimiter, RedisRateLimiter
from gateway.upstream import new_session
from tools.cli import OneLineParser
from tools.harness import (
    LESSON,
    NGINX,
    Load,
    children,
    free_port,
    gateway_env,
    nginx,
    process,
    uvicorn_cmd,
    wait_healthy,
    wrk,
)

PATH = "/products/1"


async def client_cpu_us(kind: str, url: str, n: int, inflight: int = 8) -> float:
    """CPU per request of an HTTP client alone, in this process: the gateway's (aiohttp) and
    the one it used before (httpx), on the same upstream, body read whole."""
    if kind == "aiohttp":
        async with new_session() as session:

            async def get() -> None:
                async with session.get(url) as response:
                    await response.read()

            return await _cpu_per_call(get, n, inflight)
    async with httpx.AsyncClient() as client:

        async def get() -> None:
            await client.get(url)

        return await _cpu_per_call(get, n, inflight)


async def _cpu_per_call(call: Callable[[], Awaitable[None]], n: int, inflight: int) -> float:
    async def worker(count: int) -> None:
        for _ in range(count):
            await call()

    await worker(50)  # warm-up: connections open, code paths hot
    before = time.process_time()
    await asyncio.gather(*(worker(n // inflight) for _ in range(inflight)))
    return (time.process_time() - before) / (n // inflight * inflight) * 1e6


def profile_gateway(seconds: float, connections: int) -> dict[str, float]:
    """Where the gateway's time goes under the same wrk load: pyinstrument, by package."""
    up, gw = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        out = Path(tmp, "profile.json")
        stack.enter_context(process(uvicorn_cmd("services.catalog:create_app", up)))
        wait_healthy(f"http://127.0.0.1:{up}/health")
        profiled = [sys.executable, "-m", "tools.profiled", "gateway.app:create_app", str(gw)]
        env = gateway_env(f"http://127.0.0.1:{up}")
        gateway = stack.enter_context(process([*profiled, str(out)], env))
        url, headers = f"http://127.0.0.1:{gw}{PATH}", {"X-API-Key": "bench-key"}
        wait_healthy(f"http://127.0.0.1:{gw}/health")
        wrk(url, 1, connections, headers, [])  # warm-up, not profiled
        gateway.send_signal(signal.SIGUSR1)
        wrk(url, seconds, connections, headers, [])
        gateway.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 30
        while not out.exists() or not out.read_text():
            if time.monotonic() > deadline:
                raise RuntimeError("the profiled gateway wrote no profile")
            time.sleep(0.1)
        return json.loads(out.read_text())


def proxy_runs(
    seconds: float, repeats: int, connections: int, client_n: int, warm_up: bool
) -> tuple[dict[str, list[Load]], dict[str, float]]:
    up, ng, gw = free_port(), free_port(), free_port()
    results: dict[str, list[Load]] = {"direct": [], "nginx": [], "gateway": []}
    with ExitStack() as stack:
        # Started together (the gateway needs only the upstream's address, not its answer).
        upstream = stack.enter_context(process(uvicorn_cmd("services.catalog:create_app", up)))
        gateway = stack.enter_context(process(uvicorn_cmd("gateway.app:create_app", gw),
                                              gateway_env(f"http://127.0.0.1:{up}")))  # fmt: skip
        master = stack.enter_context(nginx(up, ng))
        for port in (up, gw, ng):
            wait_healthy(f"http://127.0.0.1:{port}/health")
        targets = {  # name -> url, headers, the processes whose CPU time counts
            "direct": (f"http://127.0.0.1:{up}{PATH}", {}, [upstream.pid]),
            "nginx": (f"http://127.0.0.1:{ng}{PATH}", {}, children(master.pid)),
            "gateway": (f"http://127.0.0.1:{gw}{PATH}", {"X-API-Key": "bench-key"}, [gateway.pid]),
        }
        for url, headers, pids in targets.values() if warm_up else ():
            wrk(url, 1, connections, headers, pids)  # pools filled, code paths hot
        # Interleaved rounds: a change in machine load hits all three targets alike.
        for _ in range(repeats):
            for name, (url, headers, pids) in targets.items():
                results[name].append(wrk(url, seconds, connections, headers, pids))
        clients = {
            kind: statistics.median(
                asyncio.run(client_cpu_us(kind, f"http://127.0.0.1:{up}{PATH}", client_n))
                for _ in range(repeats)
            )
            for kind in ("aiohttp", "httpx")
        }
    return results, clients


async def limiter_rate(
    limiter: MemoryRateLimiter | RedisRateLimiter, n: int, inflight: int
) -> float:
    """Decisions per second, with ``inflight`` concurrent callers (like concurrent requests)."""
    key = f"bench:{time.time_ns()}"

    async def worker(count: int) -> None:
        for _ in range(count):
            await limiter.hit(key, rate=1e9, burst=1_000_000_000)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n // inflight) for _ in range(inflight)))
    return (n // inflight * inflight) / (time.perf_counter() - started)


async def limiter_runs(n: int, repeats: int) -> dict[str, float]:
    out: dict[str, float] = {}
    memory = MemoryRateLimiter()
    await limiter_rate(memory, n // 10, 1)  # warm-up
    out["memory"] = statistics.median([await limiter_rate(memory, n, 1) for _ in range(repeats)])
    url = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
    redis_limiter = RedisRateLimiter(url, f"bench:gateway:{os.getpid()}:")
    try:
        await redis_limiter.ping()
    except Exception:  # noqa: BLE001 - any failure: report and go on without Redis
        print(f"redis rows skipped: Redis not reachable at {url} - run: docker compose up -d redis")
        await redis_limiter.aclose()
        return out
    try:
        small = max(200, n // 50)
        await limiter_rate(redis_limiter, small // 10, 1)
        for inflight in (1, 32):
            rates = [await limiter_rate(redis_limiter, small, inflight) for _ in range(repeats)]
            out[f"redis, {inflight} in flight"] = statistics.median(rates)
    finally:
        await redis_limiter.aclose()
    return out


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, load average {load}")  # fmt: skip


def plot(medians: dict[str, Load], limits: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(medians)
    xs = range(len(names))
    left.bar([x - 0.2 for x in xs], [medians[n].p50_ms for n in names], 0.4, label="p50")
    left.bar([x + 0.2 for x in xs], [medians[n].p99_ms for n in names], 0.4, label="p99")
    left.set_xticks(list(xs), names)
    left.set_ylabel("latency, ms (lower is better)")
    left.set_title(f"GET {PATH} under wrk")
    left.legend()
    right.barh(list(limits), list(limits.values()), color="tab:green")
    right.set_xscale("log")
    right.set_xlabel("rate-limit decisions/s (log scale)")
    right.set_title("token bucket")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


FIELDS = ("rps", "p50_ms", "p99_ms", "cpu_us")


def report(medians: dict[str, Load], clients: dict[str, float]) -> None:
    direct = medians["direct"]
    print(f"{'target':<9}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'added p50':>11}"
          f"{'req/s vs direct':>17}{'CPU/req':>11}")  # fmt: skip
    for name, m in medians.items():
        added = m.p50_ms - direct.p50_ms
        print(f"{name:<9}{m.rps:>8.0f}{m.p50_ms:>9.2f}{m.p99_ms:>9.2f}{added:>9.2f}ms"
              f"{m.rps / direct.rps:>16.2f}x{m.cpu_us:>8.0f} us")  # fmt: skip
    print("CPU/req: direct = the catalog service itself; nginx, gateway = the proxy process only")
    gateway, nginx_ = medians["gateway"], medians["nginx"]
    nginx_added, gateway_added = nginx_.p50_ms - direct.p50_ms, gateway.p50_ms - direct.p50_ms
    print()
    if nginx_added > 0:
        print(f"gateway's added p50 latency / nginx's: {gateway_added / nginx_added:.1f}x")
    else:
        print(f"gateway's added p50 latency: {gateway_added:.2f} ms; nginx's is within noise")
    print(f"gateway throughput / nginx's: {gateway.rps / nginx_.rps:.2f}x")
    if nginx_.cpu_us > 0:
        print(f"gateway CPU per request / nginx's: {gateway.cpu_us / nginx_.cpu_us:.0f}x")
    aio, hx = clients["aiohttp"], clients["httpx"]
    print(f"of the gateway's CPU per request, its aiohttp client alone: {aio:.0f} us "
          f"({aio / gateway.cpu_us:.0%}); httpx alone: {hx:.0f} us ({hx / aio:.1f}x)")  # fmt: skip


def main() -> int:
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, no plot")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument(
        "--profile", action="store_true", help="only profile the gateway under load (pyinstrument)"
    )
    args = parser.parse_args()
    if args.connections < 1:
        parser.error("--connections must be at least 1")
    for tool, found in (("wrk", shutil.which("wrk")), ("nginx", Path(NGINX).exists())):
        if not found:
            print(f"{tool} not found - install it: sudo apt-get install {tool}", file=sys.stderr)
            return 1
    seconds, repeats, n = (1, 1, 20_000) if args.quick else (5, 3, 200_000)
    print(machine())
    if args.profile:
        shares = profile_gateway(seconds, args.connections)
        print(f"where the gateway's time goes under wrk ({args.connections} connections, "
              f"{seconds} s), pyinstrument samples by package:")  # fmt: skip
        for name, share in shares.items():
            if share >= 0.005:
                print(f"  {name:<44}{share:>6.0%}")
        return 0
    print(f"wrk: 1 thread, {args.connections} connections, {seconds} s x {repeats} rounds, "
          f"GET {PATH} (a ~60-byte JSON body); medians\n")  # fmt: skip
    client_n = 300 if args.quick else 3000
    runs, clients = proxy_runs(seconds, repeats, args.connections, client_n, not args.quick)
    medians = {
        name: Load(*(statistics.median(getattr(r, f) for r in loads) for f in FIELDS))
        for name, loads in runs.items()
    }
    report(medians, clients)

    limits = asyncio.run(limiter_runs(n, repeats))
    print(f"\n{'rate limiter':<24}{'decisions/s':>14}{'vs memory':>11}")
    for name, rate in limits.items():
        print(f"{name:<24}{rate:>14,.0f}{rate / limits['memory']:>10.3f}x")
    if not args.quick:
        path = LESSON / "docs" / "bench.png"
        plot(medians, limits, path)
        print(f"\nplot: {path.relative_to(LESSON)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
