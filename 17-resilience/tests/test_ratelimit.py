"""Each limiter, in memory and on Redis, against the same clock script: exactly its budget at
the window's edges, no sleeps. The Redis runs pass the test's clock to the Lua script."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from resilience.ratelimit import ALGORITHMS, MEMORY_LIMITERS, Decision, Limiter, Policy
from resilience.ratelimit_redis import RedisLimiter
from tests.conftest import FakeClock

POLICY = Policy(limit=3, window_s=1.0)  # 3 requests per second
Make = Callable[[str, Policy], Awaitable[Limiter]]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Make]:
    """Build a limiter on the parametrized backend, driven by the test's clock."""
    client: aioredis.Redis | None = None
    prefix = ""
    if request.param == "redis":
        client = aioredis.from_url(request.getfixturevalue("redis_url"))
        prefix = request.getfixturevalue("key_prefix")

    async def build(algorithm: str, policy: Policy) -> Limiter:
        if client is None:
            return MEMORY_LIMITERS[algorithm](policy, clock)
        return RedisLimiter(client, algorithm, policy, prefix, clock=clock)

    yield build
    if client is not None:
        await client.aclose()


async def hits(limiter: Limiter, count: int, key: str = "client") -> list[bool]:
    return [(await limiter.hit(key)).allowed for _ in range(count)]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_a_burst_gets_exactly_the_limit(make: Make, algorithm: str) -> None:
    limiter = await make(algorithm, POLICY)
    assert await hits(limiter, 5) == [True, True, True, False, False]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_keys_are_counted_apart(make: Make, algorithm: str) -> None:
    limiter = await make(algorithm, POLICY)
    assert await hits(limiter, 4, "alice") == [True, True, True, False]
    assert await hits(limiter, 4, "bob") == [True, True, True, False]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_after_a_long_idle_the_full_budget_is_back_not_more(
    make: Make, clock: FakeClock, algorithm: str
) -> None:
    limiter = await make(algorithm, POLICY)
    await hits(limiter, 3)
    clock.advance(3600)
    assert await hits(limiter, 4) == [True, True, True, False]


async def test_fixed_window_lets_twice_the_limit_through_at_its_edge(
    make: Make, clock: FakeClock
) -> None:
    limiter = await make("fixed", POLICY)
    clock.now = 1000.999  # the last millisecond of window [1000, 1001)
    assert await hits(limiter, 4) == [True, True, True, False]
    clock.now = 1001.0  # one millisecond later, a new window
    assert await hits(limiter, 4) == [True, True, True, False]
    # 6 requests in 1 ms under a limit of 3 per second: the boundary burst.


async def test_fixed_window_refusal_says_when_the_window_ends(make: Make, clock: FakeClock) -> None:
    limiter = await make("fixed", POLICY)
    clock.now = 1000.25
    await hits(limiter, 3)
    refused = await limiter.hit("client")
    assert refused.retry_after_us == 750_000
    assert refused.headers()["Retry-After"] == "1"


async def test_sliding_log_allows_a_request_exactly_one_window_later(
    make: Make, clock: FakeClock
) -> None:
    limiter = await make("log", POLICY)
    clock.now = 1000.999
    assert await hits(limiter, 4) == [True, True, True, False]
    clock.now = 1001.0  # the fixed window would allow 3 more here
    assert await hits(limiter, 1) == [False]
    clock.now = 1001.998999
    refused = await limiter.hit("client")
    assert not refused.allowed and refused.retry_after_us == 1
    clock.now = 1001.999  # the first request is now exactly one window old
    assert await hits(limiter, 4) == [True, True, True, False]


async def test_sliding_counter_weighs_the_previous_window(make: Make, clock: FakeClock) -> None:
    limiter = await make("counter", POLICY)
    clock.now = 1000.999
    assert await hits(limiter, 4) == [True, True, True, False]
    clock.now = 1001.0  # previous window weighs 3 * 1.0: full
    assert await hits(limiter, 1) == [False]
    clock.now = 1001.5  # 3 * 0.5 = 1.5 from the past, so 1 fits (2.5 <= 3), 2 do not
    assert await hits(limiter, 1) == [True]
    refused = await limiter.hit("client")
    assert not refused.allowed
    # One more fits when 3 * (1 - e) + 2 <= 3, at e = 2/3 of the window: 166,667 us later.
    assert refused.retry_after_us == 166_667
    clock.now = 1001.666666
    assert await hits(limiter, 1) == [False]
    clock.now = 1001.666667
    assert await hits(limiter, 2) == [True, False]


async def test_token_bucket_refills_one_token_per_third_of_a_second(
    make: Make, clock: FakeClock
) -> None:
    limiter = await make("token", POLICY)
    assert await hits(limiter, 3) == [True, True, True]
    refused = await limiter.hit("client")
    assert refused.retry_after_us == 333_334  # ceil(1 s / 3)
    clock.advance(0.333333)
    assert await hits(limiter, 1) == [False]  # 0.999999 of a token
    clock.advance(0.000001)
    assert await hits(limiter, 2) == [True, False]


async def test_gcra_spaces_requests_one_interval_apart_after_the_burst(
    make: Make, clock: FakeClock
) -> None:
    limiter = await make("gcra", POLICY)
    assert await hits(limiter, 3) == [True, True, True]
    refused = await limiter.hit("client")
    assert refused.retry_after_us == 333_333  # interval = 1 s // 3, in whole microseconds
    clock.advance(0.333332)
    assert await hits(limiter, 1) == [False]
    clock.advance(0.000001)
    assert await hits(limiter, 2) == [True, False]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_headers_count_down_and_a_refusal_carries_retry_after(
    make: Make, algorithm: str
) -> None:
    limiter = await make(algorithm, POLICY)
    decisions: list[Decision] = [await limiter.hit("client") for _ in range(4)]
    assert [d.headers()["RateLimit-Remaining"] for d in decisions] == ["2", "1", "0", "0"]
    assert all(d.headers()["RateLimit-Limit"] == "3" for d in decisions)
    assert all("Retry-After" not in d.headers() for d in decisions[:3])
    assert int(decisions[3].headers()["Retry-After"]) >= 1
    assert decisions[3].headers()["RateLimit-Policy"] == "3;w=1"


def test_a_policy_the_limiters_cannot_keep_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Policy(limit=0, window_s=1)
    with pytest.raises(ValueError, match="too short"):
        Policy(limit=10, window_s=0.000001)


async def test_memory_keys_are_capped_and_the_oldest_forgotten(clock: FakeClock) -> None:
    limiter = MEMORY_LIMITERS["fixed"](Policy(1, 60), clock, max_keys=2)
    assert await hits(limiter, 2, "a") == [True, False]
    await limiter.hit("b")
    await limiter.hit("c")  # a third key: "a", the least recently seen, is dropped
    assert await hits(limiter, 1, "a") == [True]
