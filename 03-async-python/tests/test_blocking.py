"""What blocks the loop: counted by how often a monitor task gets to run, not by a clock."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

from asyncio_patterns import loop_lag


async def test_a_blocking_call_starves_every_other_task() -> None:
    report = await loop_lag.measure("blocking", lambda: loop_lag.blocking_sleep(0.05))

    # The monitor could not run at all while time.sleep() held the loop; it woke only once,
    # after the call returned.
    assert report.heartbeats == 1


async def test_to_thread_keeps_the_loop_running() -> None:
    # 50 ms against a 5 ms monitor: about 10 wake-ups on an idle machine; the blocking version
    # above gets exactly one however fast the machine is.
    report = await loop_lag.measure("offloaded", lambda: loop_lag.offloaded_sleep(0.05))

    assert report.heartbeats >= 2


async def test_cpu_work_on_the_loop_starves_it_too() -> None:
    report = await loop_lag.measure("cpu", lambda: loop_lag.blocking_cpu(200_000))

    assert report.heartbeats == 1


async def test_cpu_work_in_a_process_pool_gives_the_same_answer() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        result = await loop_lag.offloaded_cpu(10_000, pool)

    assert result == sum(i * i for i in range(10_000))


async def test_monitor_records_lateness_of_a_blocked_loop() -> None:
    async with loop_lag.LagMonitor(interval=0.001) as lag:
        time.sleep(0.03)  # block on purpose  # noqa: ASYNC251

    # The monitor asked to wake 1 ms after it started, and the loop was held for 30 ms: its one
    # sample after the block is at least ~29 ms late. That is a floor the block itself sets
    # (a slower machine only makes it later), not a threshold on speed.
    assert lag.max_ms >= 25
