"""The policy of ``call_with_retries``, written with tenacity, as a production service would.

tenacity brings what the hand-written loop leaves out: hooks for logging and metrics
(``before_sleep``), statistics per call, sync and async alike, and years of edge cases.
What it does not bring is a retry budget, or the rule that a POST is not retried: both stay
yours (``may_retry`` decides before tenacity is even asked).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from resilience.retry import RetryPolicy, may_retry

R = TypeVar("R")


async def tenacity_retry(
    op: Callable[[float], Awaitable[R]],
    status_of: Callable[[R], int],
    *,
    method: str,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> R:
    """The last answer (retryable or not), or the last error raised."""
    start = time.monotonic()

    async def attempt() -> R:
        left = policy.deadline_s - (time.monotonic() - start)
        async with asyncio.timeout(max(left, 0)):
            return await op(left)

    if not may_retry(method):
        return await attempt()

    def last_outcome(state: RetryCallState) -> R:
        assert state.outcome is not None
        return state.outcome.result()  # re-raises the last error, if it was one

    retrying = AsyncRetrying(
        # stop_before_delay: give up when the next wait would cross the deadline, as the
        # hand-written loop does; stop_after_delay would sleep past it first.
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.deadline_s),
        # wait_random_exponential is full jitter: random(0, min(max, multiplier * 2**n)).
        wait=wait_random_exponential(multiplier=policy.backoff.base_s, max=policy.backoff.cap_s),
        retry=retry_if_exception_type(policy.retry_errors)
        | retry_if_result(lambda r: status_of(r) in policy.retry_statuses),
        retry_error_callback=last_outcome,
        sleep=sleep,
    )
    return await retrying(attempt)
