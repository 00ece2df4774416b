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
import statistics
import tempfile
from pathlib import Path

from celery import group

from cli import OneLineParser, services_or_exit, settings_or_exit
from tools.fleet import (
    cpu_seconds,
    drain_rate,
    fleet,
    median_of,
    plain_call_seconds,
    round_trip,
    setups_for,
    timed,
)

DOCS = Path(__file__).resolve().parent / "docs"


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


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
        (100, 1, 10, 10, 300_000, 4) if args.quick else (1000, 5, 100, 50, 3_000_000, 8)
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
        # The pool's CPU seconds per wall second say how much of the cores it really got.
        print(f"{'pool':<28}{'wall s':>9}{'pool CPU s':>12}{'cores used':>12}")
        assert setup.worker is not None
        pid = setup.worker.pid
        for label, change in (("1 process", setup.app.control.pool_shrink),
                              ("2 processes", setup.app.control.pool_grow)):  # fmt: skip
            change(1, destination=[setup.name], reply=True, timeout=30)
            run_all = lambda: timed(  # noqa: E731
                lambda: group(burn.clone((burn_n,)) for _ in range(burns)).apply_async().get(
                    timeout=600, interval=0.005))  # fmt: skip
            run_all()  # warm-up: the grown pool's new process starts here
            walls, pool_cpu = [], []
            for _ in range(max(1, repeat // 2)):
                before = cpu_seconds(pid)[1]
                walls.append(run_all())
                pool_cpu.append(cpu_seconds(pid)[1] - before)
            cpu[label] = statistics.median(walls)
            used = statistics.median(pool_cpu)
            print(f"{label:<28}{cpu[label]:>9.2f}{used:>12.2f}{used / cpu[label]:>12.2f}")
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
