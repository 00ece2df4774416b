"""Measure what each pattern buys, on the real Redis and RabbitMQ.

    python bench.py            full run (about two minutes), writes docs/bench.png
    python bench.py --quick    small sizes, under 20 seconds, writes no plot

Every comparison is two ways of doing the same job in one run, reported as a ratio; times are
medians of repeats after a warm-up. Everything the bench creates lives under a random
namespace and is deleted at the end.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
from pathlib import Path

import aio_pika
import redis.asyncio as aredis

from messaging.settings import Settings
from tools import bench_amqp, bench_redis
from tools.cli import OneLineParser, load_settings, versions
from tools.measure import machine, ratio

DOCS = Path(__file__).resolve().parent / "docs"
SIZES = {
    # products for hit/miss, db delay (s), lookups / products in the workload, SETs, publishes,
    # messages consumed, messages end to end, repeats
    "quick": (20, 0.005, 1_000, 100, 500, 100, 100, 500, 2),
    "full": (100, 0.010, 5_000, 500, 2_000, 2_000, 2_000, 4_000, 5),
}


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<44}{value:>14}  {note}".rstrip())


async def run(settings: Settings, quick: bool, found: tuple[str, str]) -> dict[str, float]:
    hm, delay, lookups, products, sets, pubs, consumed, e2e, repeats = SIZES[
        "quick" if quick else "full"
    ]
    ns = f"bench14-{secrets.token_hex(4)}"
    r = aredis.Redis.from_url(settings.redis_url, decode_responses=True)
    r2 = aredis.Redis.from_url(settings.redis_url, decode_responses=True)
    connection = await aio_pika.connect(settings.rabbitmq_url)
    queue = f"{ns}.q"
    ratios: dict[str, float] = {}
    print(machine(*found))
    print(f"sizes: {'--quick' if quick else 'full'}; medians of {repeats} runs after a warm-up "
          "(cache latencies: of every lookup)\n")  # fmt: skip
    try:
        print(f"cache in front of a table answering in {delay * 1000:g} ms")
        miss, hit = await bench_redis.hit_vs_miss(r, ns, delay, hm)
        row("lookup that misses (database + store)", f"{miss * 1000:.2f} ms")
        row("lookup that hits (one EVALSHA)", f"{hit * 1000:.3f} ms", ratio(miss, hit) + " faster")
        ratios["cache hit vs miss latency"] = miss / hit
        calls, hit_ratio = await bench_redis.workload(r, ns, lookups, products)
        row(f"{lookups} lookups, 80% on 20% of {products} products",
            f"{calls} db calls", f"hit ratio {hit_ratio:.0%}")  # fmt: skip
        row("without a cache", f"{lookups} db calls", ratio(lookups, calls) + " fewer with it")
        ratios["database calls saved"] = lookups / calls

        print("\n100 concurrent misses on one key (database calls, median)")
        await asyncio.gather(*(r.ping() for _ in range(100)))  # open the pool's connections
        calls_by = {}
        for single_flight in (False, True):
            counts = [await bench_redis.stampede(r, ns, single_flight, delay)
                      for _ in range(repeats)]  # fmt: skip
            calls_by[single_flight] = statistics.median(counts)
        row("without single-flight", f"{calls_by[False]:g} db calls")
        row("with single-flight (SET NX PX + Lua release)", f"{calls_by[True]:g} db calls",
            ratio(calls_by[False], calls_by[True]) + " fewer")  # fmt: skip
        ratios["single-flight: database calls saved"] = calls_by[False] / calls_by[True]

        print(f"\nRedis: {sets} SETs")
        one, piped = await bench_redis.pipelining(r, ns, sets, repeats)
        row("one round trip each", f"{sets / one:,.0f} /s")
        row("one pipeline", f"{sets / piped:,.0f} /s", ratio(one, piped) + " faster")
        ratios["pipelined vs one by one"] = one / piped

        await bench_amqp.publish(connection, queue, 200, "window")  # warm-up: queue, channels
        print(f"\nRabbitMQ: {pubs} persistent messages to a quorum queue")
        times = {}
        for mode, label in (("each", "confirms, waiting for each"),
                            ("window", "confirms, 100 in flight"),
                            ("none", "no confirms (until all are queued)")):  # fmt: skip
            times[mode] = statistics.median(
                [await bench_amqp.publish(connection, queue, pubs, mode) for _ in range(repeats)]
            )
            note = ratio(times["each"], times[mode]) + " vs each" if mode != "each" else ""
            row(label, f"{pubs / times[mode]:,.0f} /s", note)
        ratios["no confirms vs confirm each"] = times["each"] / times["none"]
        ratios["100 confirms in flight vs each"] = times["each"] / times["window"]

        print(f"\nRabbitMQ: one consumer takes and acks {consumed} waiting messages")
        for prefetch in (1, 50):
            times[f"p{prefetch}"] = statistics.median(
                [
                    await bench_amqp.consume(connection, queue, consumed, prefetch)
                    for _ in range(repeats)
                ]  # fmt: skip
            )
            note = ratio(times["p1"], times["p50"]) + " vs prefetch 1" if prefetch == 50 else ""
            row(f"prefetch {prefetch}", f"{consumed / times[f'p{prefetch}']:,.0f} /s", note)
        ratios["prefetch 50 vs 1"] = times["p1"] / times["p50"]

        print(f"\n{e2e} events end to end (publish to ack, one producer, one consumer)")
        await bench_amqp.stream_end_to_end(r, r2, f"{ns}:stream", 200)  # warm-ups
        await bench_amqp.rabbit_end_to_end(connection, queue, 200)
        stream_s = statistics.median(
            [
                await bench_amqp.stream_end_to_end(r, r2, f"{ns}:stream", e2e)
                for _ in range(repeats)
            ]  # fmt: skip
        )
        rabbit_s = statistics.median(
            [await bench_amqp.rabbit_end_to_end(connection, queue, e2e) for _ in range(repeats)]
        )
        row("Redis Streams (XADD x100 pipelined, COUNT 50)", f"{e2e / stream_s:,.0f} /s")
        row("RabbitMQ (confirms x100 in flight, prefetch 50)", f"{e2e / rabbit_s:,.0f} /s",
            f"Streams {ratio(rabbit_s, stream_s)}")  # fmt: skip
        ratios["Streams vs RabbitMQ throughput"] = rabbit_s / stream_s
    finally:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await connection.close()
        keys = [k async for k in r.scan_iter(match=f"{ns}*", count=1000)]
        for first in range(0, len(keys), 1000):
            await r.delete(*keys[first : first + 1000])
        await r.aclose()
        await r2.aclose()
    return ratios


def plot(ratios: dict[str, float]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(ratios)[::-1]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(names, [ratios[n] for n in names], color="#4c72b0")
    ax.set_xscale("log")
    ax.axvline(1, color="grey", linewidth=0.8)
    for i, name in enumerate(names):
        ax.text(ratios[name], i, f" x{ratios[name]:,.1f}", va="center", fontsize=8)
    ax.set_xlabel("how many times better (log scale)")
    ax.set_title("Redis and RabbitMQ: what each pattern buys")
    fig.tight_layout()
    DOCS.mkdir(exist_ok=True)
    path = DOCS / "bench.png"
    fig.savefig(path, dpi=110)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="bench.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args(argv)
    settings = load_settings()
    if isinstance(settings, str):
        print(f"bench.py: {settings}", file=sys.stderr)
        return 2
    found = asyncio.run(versions(settings))
    if isinstance(found, str):
        print(found, file=sys.stderr)
        return 1
    ratios = asyncio.run(run(settings, args.quick, found))
    if not args.quick:
        print(f"\nplot: {plot(ratios).relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
