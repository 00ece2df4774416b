"""A limit shared by two app processes: exact on Redis, doubled in memory."""

from __future__ import annotations

import pytest
import redis

from resilience.ratelimit import ALGORITHMS, Policy
from tools.hammer import in_processes

LIMIT, HITS = 25, 60  # each of two processes tries 60 times, 16 callers at once


def window_away_from_an_edge(redis_url: str) -> float:
    """A window of about 10 days whose next edge (windows are aligned to 1970) is not in the
    next minute on Redis's clock, so a fixed or counter window cannot reset mid-test.
    Refills over the run are 25 per 10 days: none."""
    with redis.Redis.from_url(redis_url) as client:
        seconds, _ = client.time()
    return next(w for w in range(864_000, 864_100) if w - seconds % w > 60)


@pytest.mark.redis
def test_two_processes_share_one_exact_limit_on_redis(redis_url: str, key_prefix: str) -> None:
    policy = Policy(LIMIT, window_away_from_an_edge(redis_url))
    counts = in_processes(2, [redis_url], key_prefix, list(ALGORITHMS), policy, HITS)
    assert {a: sum(c) for (_, a), c in counts.items()} == {a: LIMIT for a in ALGORITHMS}, counts


def test_two_processes_with_memory_limiters_allow_twice_the_limit() -> None:
    """Why the Redis scripts exist: each process counts only its own requests."""
    counts = in_processes(2, ["memory"], "", ["gcra", "log"], Policy(LIMIT, 3600), HITS)
    assert counts == {("memory", "gcra"): [LIMIT, LIMIT], ("memory", "log"): [LIMIT, LIMIT]}
