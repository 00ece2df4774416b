"""The `limits` library, the production pick, gives the same answers to the same burst as the
hand-written limiters: its fixed window, moving window (our sliding log) and sliding window
counter, in memory and on Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from limits import parse, storage, strategies

from resilience.ratelimit import MEMORY_LIMITERS, Policy
from tests.conftest import FakeClock

PAIRS = [
    (strategies.FixedWindowRateLimiter, "fixed"),
    (strategies.MovingWindowRateLimiter, "log"),
    (strategies.SlidingWindowCounterRateLimiter, "counter"),
]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limits_storage(request: pytest.FixtureRequest) -> Iterator[storage.Storage]:
    if request.param == "memory":
        yield storage.MemoryStorage()
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test-limits-{uuid.uuid4().hex}"
    yield storage.RedisStorage(url, key_prefix=prefix)
    with redis.Redis.from_url(url) as client:  # only this test's keys, never FLUSHALL
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)


@pytest.mark.parametrize(("strategy", "ours"), PAIRS)
async def test_limits_and_ours_allow_the_same_burst(
    limits_storage: storage.Storage,
    strategy: type[strategies.RateLimiter],
    ours: str,
    clock: FakeClock,
) -> None:
    theirs = strategy(limits_storage)
    item = parse("3/day")  # a day: the burst cannot straddle a window edge
    client = uuid.uuid4().hex
    their_answers = [theirs.hit(item, "orders", client) for _ in range(5)]
    mine = MEMORY_LIMITERS[ours](Policy(3, 86_400), clock)
    our_answers = [(await mine.hit(client)).allowed for _ in range(5)]
    assert their_answers == our_answers == [True, True, True, False, False]
    assert theirs.get_window_stats(item, "orders", client).remaining == 0
