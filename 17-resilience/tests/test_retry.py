"""Retries stop at the attempt cap, at the deadline and at the budget, and a POST is never
retried. The clock and the sleep are the test's: no real waiting."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest

from resilience.backoff import Backoff
from resilience.retry import RetryBudget, RetryPolicy, call_with_retries
from resilience.with_tenacity import tenacity_retry
from tests.conftest import FakeClock

FAST = Backoff("exponential", base_s=0.1, cap_s=1.0)


class Server:
    """Answers from a script (a status, or an exception to raise); counts the calls."""

    def __init__(self, *answers: int | BaseException, clock: FakeClock | None = None) -> None:
        self.answers, self.calls, self.clock = list(answers), 0, clock
        self.budgets: list[float] = []

    async def __call__(self, seconds_left: float) -> int:
        self.budgets.append(seconds_left)
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if self.clock is not None:
            self.clock.advance(0.3)  # each call takes 300 ms of the test's time
        if isinstance(answer, BaseException):
            raise answer
        return answer


def status(code: int) -> int:
    return code


def retrying(clock: FakeClock, **policy: object) -> Callable[..., Awaitable[object]]:
    async def run(server: Server, method: str = "GET", **kwargs: object) -> object:
        return await call_with_retries(
            server, status, method=method, policy=RetryPolicy(**policy),  # type: ignore[arg-type]
            clock=clock, sleep=clock.sleep, rng=random.Random(7), **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip

    return run


async def test_retries_until_an_answer_worth_keeping(clock: FakeClock) -> None:
    server = Server(503, 502, 200)
    outcome = await retrying(clock, max_attempts=5, backoff=FAST)(server)
    assert (outcome.result, outcome.attempts, outcome.stopped) == (200, 3, "answered")


async def test_stops_at_the_attempt_cap(clock: FakeClock) -> None:
    server = Server(503)
    outcome = await retrying(clock, max_attempts=3, deadline_s=60, backoff=FAST)(server)
    assert (server.calls, outcome.stopped, outcome.result) == (3, "attempts", 503)


async def test_stops_at_the_deadline_counting_the_calls_and_the_waits(clock: FakeClock) -> None:
    # Calls take 0.3 s; waits 0.2, 0.4, 0.8 s. Deadline 1.5 s: call at 0, wait, call at 0.5,
    # wait, call at 1.2 ends at 1.5 -> no time left for a 4th, although 10 are allowed.
    server = Server(503, clock=clock)
    outcome = await retrying(clock, max_attempts=10, deadline_s=1.5, backoff=FAST)(server)
    assert (server.calls, outcome.stopped) == (3, "deadline")
    # Each attempt was told what was left of the one deadline, not a fresh timeout.
    assert server.budgets == pytest.approx([1.5, 1.0, 0.3])


async def test_does_not_wait_when_the_wait_would_cross_the_deadline(clock: FakeClock) -> None:
    server = Server(503)
    slow = Backoff("exponential", base_s=1.0, cap_s=10.0)  # first wait: 2 s
    outcome = await retrying(clock, max_attempts=5, deadline_s=1.5, backoff=slow)(server)
    assert (server.calls, outcome.stopped, clock.now) == (1, "deadline", 1000.0)


async def test_a_hanging_call_is_cut_at_the_deadline() -> None:
    never = asyncio.Event()

    async def hangs(seconds_left: float) -> int:
        await never.wait()
        return 200

    outcome = await call_with_retries(
        hangs, status, method="GET", policy=RetryPolicy(max_attempts=5, deadline_s=0.05)
    )
    assert (outcome.attempts, outcome.stopped) == (1, "deadline")
    assert isinstance(outcome.error, TimeoutError)


@pytest.mark.parametrize("failure", [503, 504, ConnectionRefusedError(), TimeoutError()])
async def test_a_post_is_never_retried(clock: FakeClock, failure: int | BaseException) -> None:
    server = Server(failure, 201)
    outcome = await retrying(clock, max_attempts=5, backoff=FAST)(server, method="POST")
    assert (server.calls, outcome.stopped) == (1, "not retryable")


async def test_a_post_with_an_idempotency_key_is_retried(clock: FakeClock) -> None:
    server = Server(503, 201)
    run = retrying(clock, max_attempts=5, backoff=FAST)
    outcome = await run(server, method="POST", idempotency_key=True)
    assert (server.calls, outcome.result) == (2, 201)


@pytest.mark.parametrize("code", [200, 400, 404, 409, 500])
async def test_answers_that_a_retry_would_not_change_are_kept(clock: FakeClock, code: int) -> None:
    server = Server(code)
    outcome = await retrying(clock, max_attempts=5, backoff=FAST)(server)
    assert (server.calls, outcome.result, outcome.stopped) == (1, code, "answered")


async def test_a_bug_is_raised_not_retried(clock: FakeClock) -> None:
    server = Server(ValueError("bad code"))
    with pytest.raises(ValueError, match="bad code"):
        await retrying(clock, max_attempts=5, backoff=FAST)(server)
    assert server.calls == 1


async def test_a_retry_budget_caps_retries_at_a_ratio_of_requests(clock: FakeClock) -> None:
    budget, server = RetryBudget(ratio=0.1, reserve=2), Server(503)
    run = retrying(clock, max_attempts=5, deadline_s=60, backoff=FAST)
    outcomes = [await run(server, budget=budget) for _ in range(100)]
    retries = server.calls - 100
    # Without a budget: 400 retries (4 each). With it: at most reserve + 10% of requests.
    assert retries == budget.retries <= 2 + 0.1 * 100
    assert retries >= 10  # and it does let some through: it is a budget, not a ban
    assert sum(o.stopped == "budget" for o in outcomes) == budget.refused > 0


def test_bad_budget_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryBudget(ratio=2.0)


async def test_tenacity_stops_at_the_cap_and_keeps_the_last_answer() -> None:
    server = Server(503)
    policy = RetryPolicy(max_attempts=3, deadline_s=60, backoff=FAST)

    async def no_wait(seconds: float) -> None:
        return None

    assert await tenacity_retry(server, status, method="GET", policy=policy, sleep=no_wait) == 503
    assert server.calls == 3
    post = Server(503, 201)
    assert await tenacity_retry(post, status, method="POST", policy=policy, sleep=no_wait) == 503
    assert post.calls == 1
    errors = Server(ConnectionResetError("reset"))
    with pytest.raises(ConnectionResetError):
        await tenacity_retry(errors, status, method="GET", policy=policy, sleep=no_wait)
    assert errors.calls == 3
