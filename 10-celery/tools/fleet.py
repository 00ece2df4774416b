"""The bench's machinery: workers started side by side on queues of their own, a backlog
drained and timed, CPU read from /proc. bench.py decides what to measure; this does the how.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from celery import Celery
from kombu import Connection

from tools.procs import READY, ChildProcess, start_worker, stop_all
from uploads.celery_app import make_celery
from uploads.settings import Settings


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
                    conn.channel().exchange_delete(settings.queue(kind))  # Celery's twin
    client = redis.Redis.from_url(base.redis_url)
    for settings in all_settings:
        # Result keys and queue lists start with the prefix; kombu's binding tables for the
        # Redis broker are `_kombu.binding*.<queue>`. The shared `unacked` hashes are left.
        for pattern in (f"{settings.queue_prefix}*", f"_kombu.binding*.{settings.queue_prefix}*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.delete(key)
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
