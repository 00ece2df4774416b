"""Hit one rate-limit key with many concurrent callers from this process.

The tests and bench.py start two of these to check a limit shared across processes:

    python -m tools.hammer BACKENDS PREFIX ALGORITHMS LIMIT WINDOW_S HITS

BACKENDS is a comma list of ``memory`` (state in this process) and Redis URLs. For each
backend and algorithm it prints ``ready``, waits for a line on stdin (so that all processes
start together), hits its key, and prints how many hits were allowed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import redis.asyncio as aioredis

from resilience.ratelimit import MEMORY_LIMITERS, Limiter, Policy
from resilience.ratelimit_redis import RedisLimiter

CALLERS = 16
LESSON = Path(__file__).resolve().parents[1]


async def hammer(limiter: Limiter, key: str, hits: int, callers: int = CALLERS) -> int:
    """``hits`` decisions for one key from ``callers`` concurrent tasks; how many allowed."""
    allowed = 0

    async def caller(count: int) -> None:
        nonlocal allowed
        for _ in range(count):
            # Await first, then add: `allowed += await ...` reads `allowed` before the await
            # and writes back a stale sum after it, losing the other callers' counts.
            decision = await limiter.hit(key)
            allowed += decision.allowed

    shares = [hits // callers + (i < hits % callers) for i in range(callers)]
    await asyncio.gather(*(caller(n) for n in shares))
    return allowed


async def main(
    backends: list[str], prefix: str, algorithms: list[str], policy: Policy, hits: int
) -> None:
    for backend in backends:
        client = None if backend == "memory" else aioredis.from_url(backend)
        try:
            if client is not None:
                await client.ping()  # connect before the start line, not during the race
            for algorithm in algorithms:
                limiter: Limiter = (
                    MEMORY_LIMITERS[algorithm](policy)
                    if client is None
                    else RedisLimiter(client, algorithm, policy, prefix)
                )
                print("ready", flush=True)
                await asyncio.to_thread(sys.stdin.readline)
                print(await hammer(limiter, "shared", hits), flush=True)
        finally:
            if client is not None:
                await client.aclose()


def in_processes(
    processes: int,
    backends: list[str],
    prefix: str,
    algorithms: list[str],
    policy: Policy,
    hits: int,
) -> dict[tuple[str, str], list[int]]:
    """Start ``processes`` hammers; per (backend, algorithm), release them together on one
    key and collect each process's count of allowed hits."""
    cmd = [sys.executable, "-m", "tools.hammer", ",".join(backends), prefix,
           ",".join(algorithms), str(policy.limit), repr(policy.window_s), str(hits)]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, cwd=LESSON, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]

    def line(proc: subprocess.Popen[str]) -> str:
        assert proc.stdout is not None
        return proc.stdout.readline().strip()

    counts: dict[tuple[str, str], list[int]] = {}
    try:
        for backend in backends:
            for algorithm in algorithms:
                for proc in procs:
                    if (said := line(proc)) != "ready":
                        raise RuntimeError(f"hammer did not start: {said!r}")
                for proc in procs:
                    assert proc.stdin is not None
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                counts[backend, algorithm] = [int(line(proc)) for proc in procs]
        for proc in procs:
            proc.wait(30)
        return counts
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    backends, prefix, algorithms, limit, window, hits = sys.argv[1:7]
    policy = Policy(int(limit), float(window))
    asyncio.run(main(backends.split(","), prefix, algorithms.split(","), policy, int(hits)))
