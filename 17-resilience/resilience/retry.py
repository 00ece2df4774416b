"""Retries by hand: what may be retried, an attempt cap, an overall deadline and a retry budget.

``tenacity_retry`` in ``resilience/with_tenacity.py`` is the same policy with the library a
production service would use; this loop exists so every rule is visible in twenty lines.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from resilience.backoff import Backoff

R = TypeVar("R")

# Safe to send twice: the second has the same effect as the first (RFC 9110, 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# "Not now, try again": too many requests, bad gateway, unavailable, gateway timeout, and the
# server's own request timeout. A 500 is not here: the same request usually meets the same bug.
RETRYABLE_STATUSES = frozenset({408, 429, 502, 503, 504})
# Connection refused or reset, and timeouts. A refused connection never reached the server;
# a timeout may have been served and only the answer lost, which is why the method matters.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)


def may_retry(method: str, idempotency_key: bool = False) -> bool:
    """A POST is retried only if it carries an Idempotency-Key the server deduplicates by:
    otherwise the order that was placed but whose answer was lost is placed twice."""
    return method.upper() in IDEMPOTENT_METHODS or idempotency_key


class RetryBudget:
    """Retries may add at most ``ratio`` to the requests sent, plus a small ``reserve``.

    Each first attempt deposits ``ratio`` of a token, each retry takes a whole one; with none
    left, a failure is returned instead of retried. Whatever the outage, retries stay under
    ``reserve + ratio * requests``, so a client fleet adds 10% load, not 3x, to a sick server.
    (Finagle and gRPC's retry throttling work this way; Envoy caps retries in flight.)
    """

    def __init__(self, ratio: float = 0.1, reserve: float = 10.0) -> None:
        if not 0 <= ratio <= 1 or reserve < 0:
            raise ValueError("need 0 <= ratio <= 1 and reserve >= 0")
        self.ratio, self.reserve = ratio, reserve
        self._tokens = reserve  # capped at reserve: a quiet hour does not bank 1,000 retries
        self.requests = self.retries = self.refused = 0

    def record_request(self) -> None:
        self.requests += 1
        self._tokens = min(self.reserve + self.ratio, self._tokens + self.ratio)

    def try_spend(self) -> bool:
        if self._tokens >= 1:
            self._tokens -= 1
            self.retries += 1
            return True
        self.refused += 1
        return False


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3  # the first attempt included
    deadline_s: float = 2.0  # for all attempts and the waits between them together
    backoff: Backoff = field(default_factory=Backoff)
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES
    retry_errors: tuple[type[BaseException], ...] = RETRYABLE_ERRORS


@dataclass
class Outcome(Generic[R]):
    result: R | None  # the last answer, if there was one
    error: BaseException | None  # the last error, if the last attempt raised
    attempts: int
    stopped: str  # answered | not retryable | attempts | deadline | budget


async def call_with_retries(
    op: Callable[[float], Awaitable[R]],
    status_of: Callable[[R], int],
    *,
    method: str,
    policy: RetryPolicy,
    budget: RetryBudget | None = None,
    idempotency_key: bool = False,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> Outcome[R]:
    """Call ``op(seconds_left)`` until it answers something not worth retrying, or a limit
    stops it. ``op`` gets the time left so it can pass it on (a timeout, a deadline header)."""
    rng = rng or random.Random()
    deadline = clock() + policy.deadline_s
    previous, attempt = policy.backoff.base_s, 0
    if budget is not None:
        budget.record_request()
    while True:
        left = deadline - clock()
        if left <= 0:
            return Outcome(None, TimeoutError("deadline spent"), attempt, "deadline")
        attempt += 1
        result: R | None = None
        error: BaseException | None = None
        try:
            # The attempt may not outlive the deadline, whatever op does with its argument.
            async with asyncio.timeout(left):
                result = await op(left)
        except policy.retry_errors as exc:
            error = exc
        if error is None and status_of(result) not in policy.retry_statuses:  # type: ignore[arg-type]
            return Outcome(result, None, attempt, "answered")
        if not may_retry(method, idempotency_key):
            return Outcome(result, error, attempt, "not retryable")
        if attempt >= policy.max_attempts:
            return Outcome(result, error, attempt, "attempts")
        delay = policy.backoff.delay(attempt, previous, rng)
        if clock() + delay >= deadline:  # waiting would spend the rest: give up now
            return Outcome(result, error, attempt, "deadline")
        if budget is not None and not budget.try_spend():
            return Outcome(result, error, attempt, "budget")
        await sleep(delay)
        previous = delay
