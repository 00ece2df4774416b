"""Measure what Celery's knobs cost: prefetch on tiny tasks, the price of a task against a plain
call, a group against sequential round trips, pool size on CPU work, RabbitMQ against Redis.

    python bench.py           full run, writes docs/throughput.png
    python bench.py --quick   small sizes, writes no plot

Needs RabbitMQ and Redis (docker compose up -d rabbitmq redis). Every worker is started at
once, each on queues of its own, then measured one after the other while the rest are idle.
"""

from __future__ import annotations

import os
import platform
import secrets
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from celery import Celery, group
from kombu import Connection

from cli import OneLineParser, services_or_exit, settings_or_exit
from tools.procs import READY, ChildProcess, start_worker, stop_all
from uploads.celery_app import make_celery
from uploads.settings import Settings

DOCS = Path(__file__).resolve().parent / "docs"


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


@dataclass
class Setup:
    """One worker configuration: its own queues, its own client app."""

    label: str
    broker: str  # rabbitmq | redis
    prefetch: int
    concurrency: int
    settings: Settings | None = None
    app: Celery | None = None
    worker: ChildProcess | None = None
    name: str = ""
    cpu_ms: list[tuple[float, ...]] = field(default_factory=list)  # (main, pool) per task


def setups_for(quick: bool) -> list[Setup]:
    every = [
        Setup("prefetch 1", "rabbitmq", 1, 2),
        Setup("prefetch 4", "rabbitmq", 4, 2),
        Setup("prefetch 16", "rabbitmq", 16, 2),
        Setup("Redis broker, prefetch 4", "redis", 4, 2),
    ]
    return [s for s in every if not (quick and s.label == "prefetch 16")]


@contextmanager
def fleet(base: Settings, logs: Path, setups: list[Setup]) -> Iterator[dict[str, Setup]]:
    """Start every worker at once (imports dominate a start), stop and delete queues after."""
    run = secrets.token_hex(3)
    try:
        for i, setup in enumerate(setups):
            prefix = f"bench10.{run}.{i}."
            setup.settings = base.model_copy(update={"queue_prefix": prefix,
                                                     "broker": setup.broker})  # fmt: skip
            setup.app = make_celery(setup.settings)
            # Pool processes are not recycled during a run: a fork every 200 tasks would be
            # measured instead of the setting each row is about.
            env = {"QUEUE_PREFIX": prefix, "BROKER": setup.broker,
                   "RABBITMQ_URL": base.rabbitmq_url, "REDIS_URL": base.redis_url,
                   "WORKER_MAX_TASKS_PER_CHILD": "1000000"}  # fmt: skip
            setup.name = f"bench{i}@{socket.gethostname()}"
            setup.worker = start_worker(
                f"bench{i}", [setup.settings.queue("io"), setup.settings.queue("cpu")], env,
                logs / f"{i}.log", pool="prefork", concurrency=setup.concurrency,
                prefetch=setup.prefetch,
            )  # fmt: skip
        for setup in setups:
            assert setup.worker is not None
            setup.worker.wait_for(READY, timeout=120)
        yield {setup.label: setup for setup in setups}
    finally:
        stop_all([setup.worker for setup in setups if setup.worker])
        delete_queues(base, [s.settings for s in setups if s.settings])


def delete_queues(base: Settings, all_settings: list[Settings]) -> None:
    import redis

    with Connection(base.rabbitmq_url) as conn:
        for settings in all_settings:
            if settings.broker == "rabbitmq":
                for kind in ("io", "cpu"):
                    conn.channel().queue_delete(settings.queue(kind))
    client = redis.Redis.from_url(base.redis_url)
    for settings in all_settings:
        for key in client.scan_iter(match=f"{settings.queue_prefix}*", count=1000):
            client.delete(key)
        for kind in ("io", "cpu"):
            client.delete(settings.queue(kind))
    client.close()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(worker main process, its pool processes): CPU seconds used so far, from /proc."""

    def used(p: int | str) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0  # a pool process that just exited
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0, 0.0
    return used(pid), sum(used(c) for c in children)


def drain_rate(setup: Setup, n: int) -> float:
    """Tasks per second a worker drains from a backlog: n tiny tasks, then one whose result
    says the queue is empty. The worker stops consuming while the backlog is published, so
    the client's publishing speed is not part of the number."""
    app, settings = setup.app, setup.settings
    assert app is not None and settings is not None
    queue, worker = settings.queue("io"), [setup.name]
    app.control.cancel_consumer(queue, destination=worker, reply=True, timeout=30)
    noop, add = app.signature("uploads.noop"), app.signature("uploads.add", (0, 0))
    with app.producer_or_acquire() as producer:
        for _ in range(n):
            noop.apply_async(producer=producer)
        last = add.apply_async(producer=producer)
    assert setup.worker is not None
    cpu_before = cpu_seconds(setup.worker.pid)
    started = time.perf_counter()
    app.control.add_consumer(queue, destination=worker, reply=True, timeout=30)
    last.get(timeout=300, interval=0.002)
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(setup.worker.pid)
    setup.cpu_ms.append(tuple((a - b) * 1000 / (n + 1) for a, b in zip(cpu_after, cpu_before,
                                                                       strict=True)))  # fmt: skip
    return (n + 1) / elapsed


def round_trip(app: Celery, repeat: int) -> list[float]:
    add = app.signature("uploads.add", (1, 2))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        add.delay().get(timeout=60, interval=0.001)
        times.append(time.perf_counter() - started)
    return times


def plain_call_seconds() -> float:
    def add(x: int, y: int) -> int:
        return x + y

    loops = 200_000
    started = time.perf_counter()
    for _ in range(loops):
        add(1, 2)
    return (time.perf_counter() - started) / loops


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_of(repeat: int, action: Callable[[], float]) -> float:
    action()  # warm-up: connections, pools, the first result key
    return statistics.median(action() for _ in range(repeat))


def main() -> int:
    parser = OneLineParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args()
    base = settings_or_exit(
        rabbitmq_url=os.environ.get("RABBITMQ_URL") or "amqp://guest:guest@localhost:5672/",
        redis_url=os.environ.get("REDIS_URL") or "redis://localhost:6379/0",
    )
    services_or_exit(base)
    services_or_exit(base.model_copy(update={"broker": "redis"}))
    tiny, repeat, trips, fan, burn_n, burns = (
        (100, 1, 10, 10, 100_000, 2) if args.quick else (1000, 5, 100, 50, 3_000_000, 8)
    )
    print(machine())
    print("workers: prefork, acks_late, events on, results in Redis; median of "
          f"{repeat} interleaved runs after a warm-up\n")  # fmt: skip
    chosen = setups_for(args.quick)
    with tempfile.TemporaryDirectory() as tmp, fleet(base, Path(tmp), chosen) as setups:
        rates = {}
        print(f"a backlog of {tiny} tiny tasks drained by one worker (2 processes)")
        print(f"{'setup':<26}{'tasks/s':>9}{'vs prefetch 1':>15}"
              f"{'CPU ms/task: main':>19}{'pool':>7}")  # fmt: skip
        # Rounds interleave the setups (1, 4, 16, Redis, 1, 4, ...): a change in the machine's
        # load during the run lands on every setup alike instead of on one of them.
        samples: dict[str, list[float]] = {setup.label: [] for setup in chosen}
        for setup in chosen:
            drain_rate(setup, tiny // 5)  # warm-up
        for setup in chosen:
            setup.cpu_ms.clear()
        for _ in range(repeat):
            for setup in chosen:
                samples[setup.label].append(drain_rate(setup, tiny))
        for setup in chosen:
            label = setup.label
            rates[label] = statistics.median(samples[label])
            ratio = rates[label] / rates["prefetch 1"]
            main_ms = statistics.median(c[0] for c in setup.cpu_ms)
            pool_ms = statistics.median(c[1] for c in setup.cpu_ms)
            print(f"{label:<26}{rates[label]:>9.0f}{ratio:>14.1f}x{main_ms:>19.2f}{pool_ms:>7.2f}")
        rabbit_vs_redis = rates["prefetch 4"] / rates["Redis broker, prefetch 4"]
        print(f"RabbitMQ vs Redis as broker (prefetch 4): {rabbit_vs_redis:.2f}x")

        app = setups["prefetch 4"].app
        assert app is not None
        trip = statistics.median(round_trip(app, trips))
        plain = plain_call_seconds()
        print(f"\none task, sent and waited for: {trip * 1000:.2f} ms; a plain call: "
              f"{plain * 1e9:.0f} ns; overhead ratio {trip / plain:,.0f}x")  # fmt: skip

        # Tasks that wait 20 ms like an I/O call: one by one, each wait and each round trip
        # add up; as a group, both worker processes wait at once and the trips overlap.
        nap = app.signature("uploads.sleepy", (0.02,))
        sequential = median_of(repeat, lambda: timed(
            lambda: [nap.delay().get(timeout=60, interval=0.001) for _ in range(fan)]))  # fmt: skip
        fanned = median_of(repeat, lambda: timed(
            lambda: group(nap.clone() for _ in range(fan)).apply_async().get(
                timeout=60, interval=0.001)))  # fmt: skip
        print(f"\n{fan} tasks of 20 ms: sequential .get() {sequential * 1000:.0f} ms, one group "
              f"{fanned * 1000:.0f} ms: group {sequential / fanned:.1f}x faster")  # fmt: skip

        print(f"\n{burns} CPU tasks (pure Python loop of {burn_n:,})")
        cpu = {}
        setup = setups["prefetch 1"]
        assert setup.app is not None
        burn = setup.app.signature("uploads.burn")
        # One worker, its pool shrunk to one process and grown back: the same worker either way.
        for label, change in (("1 process", setup.app.control.pool_shrink),
                              ("2 processes", setup.app.control.pool_grow)):  # fmt: skip
            change(1, destination=[setup.name], reply=True, timeout=30)
            cpu[label] = median_of(max(1, repeat // 2), lambda: timed(
                lambda: group(burn.clone((burn_n,)) for _ in range(burns)).apply_async().get(
                    timeout=600, interval=0.005)))  # fmt: skip
            print(f"{label:<28}{cpu[label]:>9.2f} s")
        print(f"concurrency 2 vs 1: {cpu['1 process'] / cpu['2 processes']:.2f}x "
              f"on {os.cpu_count()} cores")  # fmt: skip
    if not args.quick:
        plot(rates, {"sequential .get()": sequential, "group": fanned}, fan)
    return 0


def plot(rates: dict[str, float], fan: dict[str, float], n: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=[2, 1])
    left.barh(list(rates), list(rates.values()), color="#4c72b0")
    left.invert_yaxis()
    left.set_xlabel("tiny tasks per second (higher is better)")
    left.set_title("Prefetch and broker")
    right.bar(list(fan), [v * 1000 for v in fan.values()], color="#dd8452")
    right.set_ylabel("ms")
    right.set_title(f"{n} tasks of 20 ms")
    fig.tight_layout()
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / "throughput.png", dpi=120)
    print(f"\nplot: {DOCS / 'throughput.png'}")


if __name__ == "__main__":
    raise SystemExit(main())
