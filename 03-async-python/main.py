"""Lesson 03: async Python - concurrency you can see.

The default demo starts a local server whose every answer takes --latency-ms, fetches
--requests URLs from it one by one and then --concurrency at a time, and draws both timelines.
The other demos each show one pattern: basics (coroutine vs task), blocking (what freezes the
event loop), failures (gather vs TaskGroup), pipeline (a bounded queue), lifecycle
(cancellation, timeouts, async generators); `all` runs every one."""

from __future__ import annotations

import asyncio
import logging
import sys
from argparse import RawDescriptionHelpFormatter
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor

from pydantic import ValidationError

from asyncio_patterns import basics, failures, lifecycle, loop_lag, pipeline
from asyncio_patterns.clients import open_client
from asyncio_patterns.fetch import bounded, fetch_sequential, ideal_speedup, max_in_flight
from asyncio_patterns.settings import Settings, limits
from tools.cli import OneLineParser, int_between
from tools.slow_server import SlowServer
from tools.timeline import render

DEMOS = ("fetch", "basics", "blocking", "failures", "pipeline", "lifecycle", "all")


async def demo_fetch(settings: Settings) -> None:
    n, limit = settings.requests, settings.concurrency
    with SlowServer(delay=settings.latency_ms / 1000) as server:
        print(f"Local slow server at {server.url}: every answer takes {settings.latency_ms} ms.")
        print(f"Fetching {n} URLs one by one, then {limit} at a time.\n", flush=True)
        urls = [f"{server.url}/item/{i}" for i in range(n)]
        async with open_client("aiohttp", max(n, limit)) as get:
            await get(f"{server.url}/warm-up?delay_ms=0")  # first connect is not the point
            sequential = await fetch_sequential(get, urls)
            concurrent = await bounded(limit)(get, urls)
    span = max(t.end for t in sequential)
    for title, timings in (("sequential", sequential), (f"bounded, {limit} at once", concurrent)):
        total = max(t.end for t in timings)
        print(f"{title}: {total * 1000:.0f} ms, at most {max_in_flight(timings)} in flight")
        print("\n".join(render(timings, span=span)), end="\n\n")
    speedup = span / max(t.end for t in concurrent)
    rounds = -(-n // limit)  # ceil(n / limit): the last round may be only partly full
    print(
        f"speedup {speedup:.1f}x (ideal {ideal_speedup(n, limit):.3g}x: "
        f"{n} requests in {rounds} rounds of at most {limit})"
    )


async def demo_blocking() -> None:
    print("The lag monitor wakes every 5 ms; how late it wakes is how long the loop was stuck.")
    with ProcessPoolExecutor(max_workers=1) as pool:
        jobs: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("time.sleep(0.2) in a coroutine", lambda: loop_lag.blocking_sleep(0.2)),
            ("asyncio.to_thread(time.sleep, 0.2)", lambda: loop_lag.offloaded_sleep(0.2)),
            ("CPU work on the loop", lambda: loop_lag.blocking_cpu(3_000_000)),
            ("CPU work in a process pool", lambda: loop_lag.offloaded_cpu(3_000_000, pool)),
        ]
        for name, job in jobs:
            r = await loop_lag.measure(name, job)
            print(
                f"  {r.name:<36} worst lag {r.max_lag_ms:6.1f} ms, monitor ran {r.heartbeats:3d}x"
            )


async def demo_basics() -> None:
    print("a coroutine vs a task, each appending to a journal:")
    for line in await basics.coroutine_vs_task():
        print(f"  {line}")
    order = await basics.in_completion_order({"slow": 0.3, "fast": 0.1, "medium": 0.2})
    print(f"started slow, fast, medium; as_completed gave: {', '.join(order)}")


async def demo_failures() -> None:
    journal = failures.Journal()
    results = await failures.with_gather(journal)
    print("gather(return_exceptions=True):", [repr(r) for r in results])
    print("  journal:", journal.events)
    journal = failures.Journal()
    handled = await failures.with_task_group(journal)
    print("TaskGroup + except*:", handled)
    print("  journal:", journal.events)


async def demo_pipeline() -> None:
    async def handle(n: int) -> int:
        await asyncio.sleep(0.001)
        if n % 7 == 0:
            raise ValueError(f"item {n} is not acceptable")
        return n * n

    out = await pipeline.run_pipeline(range(1, 31), handle, workers=3, maxsize=4)
    print(f"processed {len(out.results)}, dead letters {len(out.dead_letters)}:")
    for item, error in out.dead_letters:
        print(f"  dead letter {item}: {error}")
    print(f"queue never held more than {out.max_queue_size} items (maxsize 4): backpressure")


async def demo_lifecycle() -> None:
    pool = lifecycle.Pool()
    print("timeout:", await lifecycle.with_timeout(pool, 0.05), "| pool in use:", pool.in_use)
    print("  ", pool.log)
    pages = {0: [1, 2, 3], 1: [4, 5, 6], 2: [7]}
    items = [i async for i in lifecycle.paginate(lambda p: pages.get(p, []), page_size=3)]
    print("async generator over 3 pages:", items)


async def run(demo: str, settings: Settings) -> None:
    demos = {
        "fetch": lambda: demo_fetch(settings),
        "basics": demo_basics,
        "blocking": demo_blocking,
        "failures": demo_failures,
        "pipeline": demo_pipeline,
        "lifecycle": demo_lifecycle,
    }
    for name in demos if demo == "all" else [demo]:
        print(f"== {name} ==")
        await demos[name]()
        print()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        defaults = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"ASYNC_{str(first['loc'][0]).upper()}"
        print(f"main.py: error: {name}: {first['msg']}", file=sys.stderr)
        return 2
    parser = OneLineParser(
        prog="main.py", description=__doc__, formatter_class=RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "demo", nargs="?", default="fetch", choices=DEMOS, help="which demo to run (default: fetch)"
    )
    fields = Settings.model_fields
    for flags, name, env in (
        (("-n", "--requests"), "requests", "ASYNC_REQUESTS"),
        (("--latency-ms",), "latency_ms", "ASYNC_LATENCY_MS"),
        (("-c", "--concurrency"), "concurrency", "ASYNC_CONCURRENCY"),
    ):
        low, high = limits(name)
        parser.add_argument(
            *flags,
            type=int_between(low, high),
            default=getattr(defaults, name),
            metavar="N",
            help=f"{fields[name].description}, {low}-{high} (default: %(default)s, or {env})",
        )
    args = parser.parse_args(argv)
    settings = Settings(
        requests=args.requests, latency_ms=args.latency_ms, concurrency=args.concurrency
    )
    try:
        asyncio.run(run(args.demo, settings))
    except KeyboardInterrupt:
        # asyncio.run has already cancelled the tasks (their finally blocks ran, the client
        # closed, the server process was stopped by its context manager): one line is enough.
        print("main.py: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
