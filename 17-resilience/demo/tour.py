"""``python main.py demo``: every pattern against the fault injector, one short table each.

Everything runs in this process on free ports: two fault-injecting upstreams and the
protected API (uvicorn in threads), and aiohttp callers. Nothing else is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from faults.app import Faults
from faults.app import create_app as faults_app
from resilience.api import create_app
from resilience.backoff import Backoff
from resilience.ratelimit import ALGORITHMS, MEMORY_LIMITERS, US, Policy
from resilience.retry import RetryBudget, RetryPolicy
from resilience.settings import Settings
from tools.load import Load, fixed_count, for_seconds, with_retries
from tools.serving import ServerThread
from tools.storm import Scenario, simulate_all

Out = Callable[[str], None]


@dataclass
class Row:
    label: str
    calls: int
    upstream: int | None  # calls that reached the upstream, when it matters
    ok: int
    load: Load | None = None

    def line(self) -> str:
        amp = f"{self.upstream / self.calls:.2f}x" if self.upstream is not None else "-"
        up = f"{self.upstream:,}" if self.upstream is not None else "-"
        p50 = f"{self.load.percentile_ms(50):.0f}" if self.load else "-"
        p99 = f"{self.load.percentile_ms(99):.0f}" if self.load else "-"
        return (f"  {self.label:<44}{self.calls:>7,}{up:>10}{self.ok:>11,}{amp:>8}"
                f"{p50:>8}{p99:>8}")  # fmt: skip


def table(out: Out, title: str, rows: list[Row]) -> None:
    out(f"\n{title}")
    out(f"  {'':<44}{'calls':>7}{'upstream':>10}{'succeeded':>11}{'ampl.':>8}"
        f"{'p50 ms':>8}{'p99 ms':>8}")  # fmt: skip
    for row in rows:
        out(row.line())


class Stack:
    """Two fault injectors and the API in front of them, each a real server on a free port."""

    def __init__(self) -> None:
        self.servers: list[ServerThread] = []

    def serve(self, app: Any) -> str:
        server = ServerThread(app).start()
        self.servers.append(server)
        return server.url

    def api(self, inventory: str, recommendations: str, **settings: Any) -> str:
        values = {"redis_url": None, "inventory_url": inventory, "rate_limit": 1_000_000,
                  "recommendations_url": recommendations, **settings}  # fmt: skip
        return self.serve(create_app(Settings.model_validate(values)))

    def stop(self) -> None:
        for server in self.servers:
            server.request_stop()
        for server in self.servers:
            server.stop()


async def stats(session: aiohttp.ClientSession, upstream: str) -> dict[str, int]:
    async with session.get(f"{upstream}/stats") as r:
        return await r.json()


async def set_faults(session: aiohttp.ClientSession, upstream: str, **faults: Any) -> None:
    async with session.put(f"{upstream}/faults", json=Faults(**faults).model_dump()) as r:
        r.raise_for_status()


def edge_bursts(out: Out) -> None:
    """The fixed window's boundary burst, next to the others, on a hand-moved clock."""
    policy, rows = Policy(20, 1.0), []
    for algorithm in ALGORITHMS:
        limiter = MEMORY_LIMITERS[algorithm](policy)
        ok = sum(
            limiter.decide("client", now).allowed
            for now in (101 * US - 1, 101 * US)  # 1 us apart, around a window edge
            for _ in range(40)
        )
        rows.append(Row(f"{algorithm}: 40 calls, then 40 more 1 us later", 80, None, ok))
    table(out, "Rate limits at a window edge (limit 20 per second; a clock moved by hand)", rows)


async def rate_limit(out: Out, session: aiohttp.ClientSession, stack: Stack, up: str) -> None:
    api = stack.api(up, up, rate_limit=20, rate_window_s=1.0, rate_algorithm="gcra",
                    bulkheads=False)  # fmt: skip
    load = await fixed_count(session, lambda i: f"{api}/inventory/{i}", 60, 10,
                             {"X-Client-Id": "demo"})  # fmt: skip
    rows = [Row(f"one client, 60 calls: {load.statuses[429]} x 429", load.sent, None, load.ok,
                load)]  # fmt: skip
    table(out, "Rate limiting through the API (GCRA, 20 per second per client and route)", rows)


async def retries(out: Out, session: aiohttp.ClientSession, up: str) -> None:
    backoff = Backoff("full", 0.005, 0.05)
    naive = RetryPolicy(max_attempts=3, deadline_s=2, backoff=backoff)
    once = RetryPolicy(max_attempts=1, deadline_s=2)
    for title, error_rate in (("30% of calls fail", 0.3), ("the upstream is down", 1.0)):
        rows = []
        for label, policy, budget in (("no retries", once, None), ("3 attempts", naive, None),
                                      ("3 attempts + retry budget 10%", naive,
                                       RetryBudget(0.1, 5))):  # fmt: skip
            await set_faults(session, up, error_rate=error_rate, latency_ms=2, seed=7)
            before = (await stats(session, up))["calls"]
            load = await with_retries(session, f"{up}/work/1", 100, 20, policy, budget)
            calls = (await stats(session, up))["calls"] - before
            rows.append(Row(label, load.sent, calls, load.ok, load))
        table(out, f"Retries: 100 GETs, {title}", rows)


def backoff(out: Out) -> None:
    s = Scenario(clients=300, capacity=6)
    rows = []
    for name, run in simulate_all(s).items():
        label = f"{name}: last success {run.last_success_s:.1f} s" if run.succeeded else name
        rows.append(Row(label, s.clients, run.calls, run.succeeded))
    table(out, "Backoff: 300 clients, server down 2 s then 600 calls/s (model, tools/storm.py)",
          rows)  # fmt: skip


async def deadline(out: Out, session: aiohttp.ClientSession, stack: Stack, slow: str) -> None:
    await set_faults(session, slow, latency_ms=1000)
    rows = []
    # A client-side timeout only: the upstream never learns the caller left.
    before = await stats(session, slow)
    timeout = aiohttp.ClientTimeout(total=0.2)
    async with aiohttp.ClientSession(timeout=timeout) as impatient:
        load = await fixed_count(impatient, lambda i: f"{slow}/work/{i}", 10, 10)
    await _settled(session, slow)
    after = await stats(session, slow)
    rows.append(Row(f"timeout at the client: {after['served'] - before['served']} "
                    "answers unread", load.sent, after["calls"] - before["calls"], load.ok,
                    load))  # fmt: skip
    api = stack.api(slow, slow, bulkheads=False)
    before = after
    load = await fixed_count(session, lambda i: f"{api}/inventory/{i}", 10, 10,
                             {"X-Deadline-Ms": "200"})  # fmt: skip
    await _settled(session, slow)
    after = await stats(session, slow)
    rows.append(Row(f"deadline propagated: {after['abandoned'] - before['abandoned']} abandoned",
                    load.sent, after["calls"] - before["calls"], load.ok, load))  # fmt: skip
    table(out, "Deadlines: the upstream takes 1 s, callers wait 200 ms", rows)


async def _settled(session: aiohttp.ClientSession, upstream: str) -> None:
    """Wait (up to 5 s) until the upstream has nothing in flight."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            while True:
                if not (await stats(session, upstream))["in_flight"]:
                    return
                await asyncio.sleep(0.05)


async def bulkhead(out: Out, session: aiohttp.ClientSession, stack: Stack) -> None:
    inventory = stack.serve(faults_app(Faults(latency_ms=5), "inventory"))
    slow = stack.serve(faults_app(Faults(latency_ms=2000), "recommendations"))
    rows = []
    for label, on in (("no bulkhead", False), ("bulkhead of 6 per dependency", True)):
        api = stack.api(inventory, slow, pool_size=12, bulkheads=on, bulkhead_size=6,
                        bulkhead_queue=20, throttle=False)  # fmt: skip
        pressure = asyncio.create_task(
            for_seconds(
                session,
                lambda i, api=api: f"{api}/recommendations/{i}",
                2.0,
                24,
                {"X-Deadline-Ms": "3000"},
                honour_retry_after=True,
            )  # fmt: skip
        )
        await asyncio.sleep(0.3)
        load = await for_seconds(session, lambda i, api=api: f"{api}/inventory/{i}", 1.0, 4,
                                 {"X-Deadline-Ms": "500"})  # fmt: skip
        pressure.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pressure
        rows.append(Row(f"healthy route, {label}", load.sent, None, load.ok, load))
    table(out, "Bulkheads: the healthy route while the other dependency takes 2 s", rows)


async def shedding(out: Out, session: aiohttp.ClientSession, stack: Stack) -> None:
    up = stack.serve(faults_app(Faults(latency_ms=200), "slowish"))
    rows = []
    for label, queue in (("no shedding", 1000), ("shed past 12 queued", 12)):
        api = stack.api(up, up, max_in_flight=4, max_queue=queue, bulkheads=False)
        load = await fixed_count(session, lambda i, api=api: f"{api}/inventory/{i}", 40, 40,
                                 {"X-Deadline-Ms": "1000"})  # fmt: skip
        rows.append(Row(f"{label}: {load.statuses[503]} x 503, {load.statuses[504]} x 504",
                        load.sent, None, load.ok, load))  # fmt: skip
    table(out, "Load shedding: 40 calls at once, 4 handled at a time, 200 ms each, 1 s deadline",
          rows)  # fmt: skip


@contextlib.asynccontextmanager
async def running() -> AsyncIterator[tuple[aiohttp.ClientSession, Stack]]:
    stack = Stack()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            yield session, stack
    finally:
        stack.stop()


async def run_demo(out: Out) -> None:
    edge_bursts(out)
    backoff(out)
    async with running() as (session, stack):
        up = stack.serve(faults_app(Faults(latency_ms=2), "inventory"))
        await rate_limit(out, session, stack, up)
        await retries(out, session, up)
        await deadline(out, session, stack, stack.serve(faults_app(name="slow")))
        await bulkhead(out, session, stack)
        await shedding(out, session, stack)
