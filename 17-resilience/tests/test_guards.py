"""The small guards on their own: bulkhead, adaptive throttle, deadline."""

from __future__ import annotations

import asyncio
import random

import pytest

from resilience.bulkhead import Bulkhead, BulkheadFull
from resilience.deadline import HEADER, Deadline, DeadlineExceeded
from resilience.throttle import AdaptiveThrottle
from tests.conftest import FakeClock


async def test_bulkhead_runs_its_limit_queues_a_few_and_refuses_the_rest() -> None:
    bulkhead, release = Bulkhead("slow", max_concurrent=2, max_queue=1), asyncio.Event()
    entered: list[int] = []

    async def call(i: int) -> str:
        try:
            async with bulkhead.slot():
                entered.append(i)
                await release.wait()
                return "done"
        except BulkheadFull:
            return "refused"

    tasks = [asyncio.create_task(call(i)) for i in range(5)]
    for _ in range(5):  # a few loop turns: every task reaches the bulkhead
        await asyncio.sleep(0)
    assert (bulkhead.active, bulkhead.waiting, bulkhead.rejected) == (2, 1, 2)
    release.set()
    assert sorted(await asyncio.gather(*tasks)) == ["done"] * 3 + ["refused"] * 2
    assert entered == [0, 1, 2] and bulkhead.active == 0


async def test_a_cancelled_waiter_leaves_no_slot_taken() -> None:
    bulkhead = Bulkhead("b", max_concurrent=1, max_queue=1)
    await bulkhead.acquire()
    waiter = asyncio.create_task(bulkhead.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    bulkhead.release()
    async with bulkhead.slot():  # the only slot is free again
        assert (bulkhead.active, bulkhead.waiting) == (1, 0)


def test_throttle_sends_everything_while_the_backend_accepts(clock: FakeClock) -> None:
    throttle = AdaptiveThrottle(k=2, clock=clock, rng=random.Random(1))
    for _ in range(1000):
        assert throttle.allow()
        throttle.record(accepted=True)
        clock.advance(0.01)
    assert throttle.refused_locally == 0


def test_throttle_follows_the_sre_formula(clock: FakeClock) -> None:
    throttle = AdaptiveThrottle(k=2, clock=clock, rng=random.Random(1))
    for i in range(100):  # 100 requests sent, the backend accepted 30
        throttle.record(accepted=i < 30)
    # max(0, (requests - K * accepts) / (requests + 1)) = (100 - 60) / 101
    assert throttle.rejection_probability() == pytest.approx(40 / 101)


def test_throttle_sheds_locally_while_the_backend_rejects_and_recovers(clock: FakeClock) -> None:
    throttle = AdaptiveThrottle(k=2, window_s=10, clock=clock, rng=random.Random(1))
    sent = 0
    for _ in range(1000):  # 10 s of a backend that rejects everything
        if throttle.allow():
            sent += 1
            throttle.record(accepted=False)
        clock.advance(0.01)
    assert sent < 150  # most of the 1,000 never left the client
    clock.advance(10)  # the window forgets the outage
    assert throttle.rejection_probability() == 0


def test_deadline_from_a_header_is_capped_and_counts_down(clock: FakeClock) -> None:
    deadline = Deadline.from_header("250", default_s=5, max_s=10, clock=clock)
    assert deadline.remaining() == pytest.approx(0.25)
    clock.advance(0.1)
    assert deadline.header(margin_s=0.05) == {HEADER: "100"}  # 150 ms left, less the margin
    assert Deadline.from_header("99999999", 5, 10, clock).remaining() == 10  # capped
    assert Deadline.from_header(None, 5, 10, clock).remaining() == 5
    clock.advance(0.2)
    assert deadline.expired and deadline.header() == {HEADER: "0"}
    with pytest.raises(DeadlineExceeded):
        deadline.check()


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "", "1e3", "²", "9" * 13])
def test_a_deadline_header_that_is_not_whole_milliseconds_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=HEADER):
        Deadline.from_header(value, 5, 10)
