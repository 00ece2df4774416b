"""What each resilience pattern buys, measured side by side in one run:

backoff     N clients retrying against a server that is down 2 s, per jitter strategy
            (a deterministic model, tools/storm.py): peak load after recovery, time
            until the last client succeeds, calls made; ratios to plain exponential
retries     naive retries vs a retry budget, against the fault injector over HTTP,
            in a full outage and at 20% errors: load amplification and success
bulkhead    the healthy route's p50/p99 and success while the other dependency is slow,
            with and without bulkheads (API and upstreams in their own processes)
limiters    each algorithm's worst burst in one window, and accuracy (allowed /
            limit) with 16 concurrent callers, in memory and on Redis, across 2 processes

python bench.py            full run, writes docs/backoff.png and docs/bulkhead.png
python bench.py --quick    small sizes, seconds, no plot (CI)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import sys
from contextlib import ExitStack
from pathlib import Path

import aiohttp
import redis

from resilience.backoff import Backoff
from resilience.ratelimit import ALGORITHMS, MEMORY_LIMITERS, US, Policy
from resilience.retry import RetryBudget, RetryPolicy
from tools.cli import OneLineParser
from tools.hammer import hammer, in_processes
from tools.load import Load, for_seconds, with_retries
from tools.procs import server
from tools.storm import Run, Scenario, simulate_all

DOCS = Path(__file__).resolve().parent / "docs"


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}, load average {load}")  # fmt: skip


# --------------------------------------------------------------------------- backoff


def backoff_section(scenario: Scenario) -> dict[str, Run]:
    runs = simulate_all(scenario)
    s = scenario
    print(f"\nBackoff: {s.clients} clients fail together; the server is down {s.outage_s:g} s, "
          f"then serves {s.capacity / s.tick_s:,.0f} calls/s")  # fmt: skip
    print(f"(model, seed {s.seed}; up to {s.max_attempts} attempts, base {s.base_s * 1000:g} ms, "
          f"cap {s.cap_s:g} s; ratios to exponential without jitter)")  # fmt: skip
    print(f"  {'strategy':<14}{'calls':>8}{'succeeded':>11}{'peak':>10}{'peak after':>12}"
          f"{'vs exp':>8}{'last success':>14}{'vs exp':>8}")  # fmt: skip
    base = runs["exponential"]
    base_peak = base.peak_after(s.outage_s, s.tick_s)
    for name, run in runs.items():
        peak = run.peak_after(s.outage_s, s.tick_s) / s.tick_s
        # A strategy whose clients all gave up during the outage has no "after" to compare.
        peak_ratio = f"{peak * s.tick_s / base_peak:.2f}x" if base_peak and run.succeeded else "-"
        if run.succeeded:
            done = f"{run.last_success_s:.2f} s"
            done_ratio = f"{run.last_success_s / base.last_success_s:.2f}x"
        else:
            done, done_ratio = "never", "-"
        ok = f"{run.succeeded / s.clients:.0%}"
        top = max(run.load) / s.tick_s
        print(f"  {name:<14}{run.calls:>8,}{ok:>11}{top:>8,.0f}/s{peak:>10,.0f}/s{peak_ratio:>8}"
              f"{done:>14}{done_ratio:>8}")  # fmt: skip
    return runs


def plot_backoff(runs: dict[str, Run], s: Scenario, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 1, figsize=(9, 9), sharex=True)
    for ax, (name, run) in zip(axes, runs.items(), strict=True):
        xs = [i * s.tick_s for i in range(len(run.load))]
        ax.plot(xs, [n / s.tick_s for n in run.load], lw=0.8)
        ax.axhline(s.capacity / s.tick_s, color="tab:red", ls="--", lw=0.8, label="capacity")
        ax.axvspan(0, s.outage_s, color="0.9", label="outage")
        ax.set_yscale("symlog", linthresh=1000)  # linear near 0, log above: waves and floods
        ax.set_ylim(0, 2e5)
        ok = run.succeeded / s.clients
        ax.set_title(f"{name}: {run.calls:,} calls, {ok:.0%} succeeded", fontsize=9, loc="left")
        ax.set_ylabel("calls/s")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("seconds")
    axes[-1].set_xlim(0, 20)
    fig.suptitle("Server load while clients retry through a 2 s outage")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


# --------------------------------------------------------------------------- retries


async def control(session: aiohttp.ClientSession, url: str, faults: dict | None = None) -> dict:
    """PUT new faults to a fault injector (with ``faults``), else GET its stats."""
    if faults is None:
        async with session.get(f"{url}/stats") as r:
            return await r.json()
    async with session.put(f"{url}/faults", json=faults) as r:
        return await r.json()


async def retries_section(url: str, requests: int) -> None:
    policy = RetryPolicy(max_attempts=4, deadline_s=5, backoff=Backoff("full", 0.001, 0.01))
    once = RetryPolicy(max_attempts=1, deadline_s=5)
    print(f"\nRetries: {requests:,} GETs, 32 at a time, straight to the fault injector "
          f"(up to 4 attempts; budget 10% + 10)")  # fmt: skip
    print(f"  {'faults':<14}{'client':<18}{'upstream calls':>15}{'amplification':>15}"
          f"{'succeeded':>11}")  # fmt: skip
    cases = [("outage", 1.0), ("20% errors", 0.2)]
    clients = [("no retries", once, False), ("naive retries", policy, False),
               ("retry budget", policy, True)]  # fmt: skip
    async with aiohttp.ClientSession() as session:
        for label, error_rate in cases:
            for name, pol, budgeted in clients:
                await control(session, url, {"error_rate": error_rate, "latency_ms": 0})
                before = (await control(session, url))["calls"]
                budget = RetryBudget(0.1, 10) if budgeted else None
                load = await with_retries(session, f"{url}/work/1", requests, 32, pol, budget)
                calls = (await control(session, url))["calls"] - before
                print(f"  {label:<14}{name:<18}{calls:>15,}{calls / requests:>14.2f}x"
                      f"{load.success:>11.1%}")  # fmt: skip


# --------------------------------------------------------------------------- bulkhead


async def healthy_under_slow(api: str, seconds: float, pressure: bool = True) -> Load:
    """8 callers of the healthy route (deadline 1 s), alone or while 64 patient callers
    hammer the slow route (they honour Retry-After on a 503)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        slow = asyncio.create_task(
            for_seconds(
                session,
                lambda i: f"{api}/recommendations/{i}",
                seconds + 0.5,
                64 if pressure else 0,
                {"X-Deadline-Ms": "5000"},
                honour_retry_after=True,
            )  # fmt: skip
        )
        await asyncio.sleep(0.5)  # the slow calls take their slots first
        healthy = await for_seconds(
            session, lambda i: f"{api}/inventory/{i}", seconds, 8, {"X-Deadline-Ms": "1000"}
        )
        slow.cancel()  # the slow callers' numbers are not the point; do not wait for them
        with contextlib.suppress(asyncio.CancelledError):
            await slow
    return healthy


def api_settings(inventory: str, slow: str, bulkheads: bool) -> dict[str, str]:
    return {"inventory_url": inventory, "recommendations_url": slow, "pool_size": "100",
            "bulkhead_size": "16", "max_in_flight": "32", "max_queue": "1000",
            "bulkheads": str(bulkheads).lower(), "rate_limit": "1000000",
            "request_timeout_s": "10", "throttle": "false"}  # fmt: skip


async def bulkhead_section(
    inventory: str, slow: str, seconds: float, own_process: bool
) -> dict[str, Load]:
    print(f"\nBulkhead: the healthy route's latency, {seconds:g} s of 8 callers, while 64 "
          f"callers wait on a dependency that takes 2 s")  # fmt: skip
    where = "separate processes" if own_process else "threads of this process (--quick)"
    print("(API: 32 requests handled at once, the rest queued; bulkheads of 16 per dependency;"
          f" {where})")  # fmt: skip
    results: dict[str, Load] = {}
    async with aiohttp.ClientSession() as session:
        await control(session, inventory, {"latency_ms": 5})
        with server("api", api_settings(inventory, slow, True), own_process) as api:
            results["healthy route alone"] = await healthy_under_slow(api, seconds, False)
            await control(session, slow, {"latency_ms": 2000})
            bulkhead = await healthy_under_slow(api, seconds)
        with server("api", api_settings(inventory, slow, False), own_process) as api:
            results["slow, no bulkhead"] = await healthy_under_slow(api, seconds)
        results["slow, bulkhead"] = bulkhead
    base = results["healthy route alone"].percentile_ms(99)
    print(f"  {'case':<22}{'requests':>9}{'succeeded':>11}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'p99 vs alone':>14}")  # fmt: skip
    for label, load in results.items():
        print(f"  {label:<22}{load.sent:>9,}{load.success:>11.1%}{load.percentile_ms(50):>9.1f}"
              f"{load.percentile_ms(99):>9.1f}{load.percentile_ms(99) / base:>13.1f}x")  # fmt: skip
    return results


def plot_bulkhead(results: dict[str, Load], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(results)
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [results[n].percentile_ms(50) for n in names], 0.4, label="p50")
    ax.bar([x + 0.2 for x in xs], [results[n].percentile_ms(99) for n in names], 0.4, label="p99")
    ax.set_xticks(list(xs), names)
    ax.set_yscale("log")
    ax.set_ylabel("healthy route latency, ms (log)")
    ax.set_title("GET /inventory while the other dependency is slow")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


# --------------------------------------------------------------------------- limiters


def worst_window_burst(algorithm: str, policy: Policy) -> int:
    """Most requests allowed within one window's length, by a client that sends twice the
    budget in the window's last microsecond and again in the next one's first."""
    limiter = MEMORY_LIMITERS[algorithm](policy)
    allowed = 0
    for now_us in (101 * US - 1, 101 * US):  # 1 us apart, on either side of a window edge
        allowed += sum(limiter.decide("k", now_us).allowed for _ in range(2 * policy.limit))
    return allowed


def limiters_section(hits: int) -> None:
    policy = Policy(limit=100, window_s=864_001)  # refills nothing during the run
    url = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
    prefix = f"bench:resilience:{os.getpid()}:"
    print(f"\nLimiters: limit 100; {hits} hits per process from 16 concurrent callers; "
          f"allowed / limit")  # fmt: skip
    edge = {a: worst_window_burst(a, Policy(100, 1.0)) / 100 for a in ALGORITHMS}
    one = {a: asyncio.run(hammer(MEMORY_LIMITERS[a](policy), "k", hits)) for a in ALGORITHMS}
    backends = ["memory"]
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
        backends.append(url)
    except (redis.RedisError, OSError):
        print(f"  (redis column skipped: Redis not reachable at {url} - "
              "run: docker compose up -d redis)")  # fmt: skip
    try:
        two = in_processes(2, backends, prefix, list(ALGORITHMS), policy, hits)
    finally:
        if url in backends:
            with redis.Redis.from_url(url) as client:
                keys = list(client.scan_iter(match=prefix + "*"))
                if keys:
                    client.delete(*keys)
    print(f"  {'algorithm':<11}{'edge burst':>12}{'memory, 1 proc':>16}{'memory, 2 procs':>17}"
          f"{'redis, 2 procs':>16}")  # fmt: skip
    for a in ALGORITHMS:
        shared = two.get((url, a))
        redis_cell = f"{sum(shared) / 100:.2f}x" if shared else "-"
        print(f"  {a:<11}{edge[a]:>11.2f}x{one[a] / 100:>15.2f}x"
              f"{sum(two['memory', a]) / 100:>16.2f}x{redis_cell:>16}")  # fmt: skip


def main() -> int:
    parser = OneLineParser(prog="bench.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args()
    quick = args.quick
    print(machine())
    scenario = Scenario(clients=300, capacity=6) if quick else Scenario()
    runs = backoff_section(scenario)
    with ExitStack() as stack:  # two fault injectors, each its own process, for both sections
        inventory = stack.enter_context(server("faults", own_process=not quick))
        slow = stack.enter_context(server("faults", own_process=not quick))
        asyncio.run(retries_section(inventory, 300 if quick else 2000))
        bulkhead = asyncio.run(bulkhead_section(inventory, slow, 1 if quick else 6, not quick))
    limiters_section(150 if quick else 400)
    if not quick:
        plot_backoff(runs, scenario, DOCS / "backoff.png")
        plot_bulkhead(bulkhead, DOCS / "bulkhead.png")
        print("\nplots: docs/backoff.png, docs/bulkhead.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
