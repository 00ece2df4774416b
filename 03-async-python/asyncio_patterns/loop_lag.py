"""What blocks the event loop, how to see it, and how to move the work off the loop.

The event loop runs one callback at a time. A coroutine that calls `time.sleep()` or crunches
numbers never reaches an `await`, so no other task runs until it is done: every request your
server is handling freezes. A lag monitor makes that visible: it asks to wake up every
`interval` seconds and records how late it actually woke.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field


@dataclass
class LagMonitor:
    """Samples the loop's lateness: `async with LagMonitor() as lag: ...; lag.max_ms`."""

    interval: float = 0.005
    samples: list[float] = field(default_factory=list)  # lateness of each wake-up, seconds
    _task: asyncio.Task[None] | None = None
    _sampled: asyncio.Event = field(default_factory=asyncio.Event)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, loop.time() - expected))
            self._sampled.set()

    async def __aenter__(self) -> LagMonitor:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)  # let the monitor take its first step before the work starts
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        # Wait for one more wake-up: a monitor starved by a blocking call has not yet had the
        # chance to record how late it is, and cancelling it now would hide the lag.
        self._sampled.clear()
        await self._sampled.wait()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            # Our own cancel; re-raise only if *we* are being cancelled from outside.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    @property
    def max_ms(self) -> float:
        return max(self.samples, default=0.0) * 1000


def cpu_work(n: int) -> int:
    """Pure-Python CPU work (sum of squares): holds the GIL the whole time."""
    return sum(i * i for i in range(n))


async def blocking_sleep(seconds: float) -> None:
    time.sleep(seconds)  # the bug on purpose: no await, the loop is frozen  # noqa: ASYNC251


async def offloaded_sleep(seconds: float) -> None:
    # to_thread runs the blocking call in the default thread pool; the loop keeps running.
    await asyncio.to_thread(time.sleep, seconds)


async def blocking_cpu(n: int) -> int:
    return cpu_work(n)


async def offloaded_cpu(n: int, pool: ProcessPoolExecutor) -> int:
    # A thread would not help CPU work (the GIL); a process has its own interpreter.
    return await asyncio.get_running_loop().run_in_executor(pool, cpu_work, n)


@dataclass(frozen=True)
class LagReport:
    name: str
    max_lag_ms: float
    heartbeats: int  # how many times the monitor managed to run meanwhile


async def measure(name: str, job: Callable[[], Awaitable[object]]) -> LagReport:
    async with LagMonitor() as lag:
        await job()
    return LagReport(name, lag.max_ms, len(lag.samples))
