"""One dependency of the API, called through every guard this lesson builds, in this order:

    deadline      the time left for the whole request sets the retry loop's deadline, and is
                  sent on (minus a margin) in X-Deadline-Ms, so the upstream stops when we do
    throttle      the SRE adaptive throttle refuses the call locally while the upstream is
                  rejecting (asked once per call; every attempt's outcome is recorded)
    retries       idempotent calls only, capped in attempts, time and by a retry budget
    bulkhead      at most N calls in flight to this dependency; the next one fails fast
    pool          the aiohttp connector shared by all dependencies

aiohttp, not httpx, on this hot path: per request it costs a fraction of httpx's CPU, and on a
2-core machine the client's CPU would otherwise be what the bench measures.
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass
from typing import Any

import aiohttp

from resilience.bulkhead import Bulkhead
from resilience.deadline import Deadline
from resilience.retry import RetryBudget, RetryPolicy, call_with_retries
from resilience.throttle import AdaptiveThrottle

OVERLOADED = frozenset({429, 503})  # "I am rejecting": what the adaptive throttle counts


class Throttled(Exception):
    """Refused by our own adaptive throttle: the call was not sent."""


@dataclass
class Answer:
    status: int
    body: Any  # parsed JSON, or None
    attempts: int = 1
    stopped: str = "answered"


@dataclass
class Dependency:
    name: str
    base_url: str
    session: aiohttp.ClientSession
    policy: RetryPolicy
    budget: RetryBudget
    throttle: AdaptiveThrottle | None
    bulkhead: Bulkhead | None
    margin_s: float = 0.01
    rng: random.Random = dataclasses.field(default_factory=random.Random)

    async def _send(
        self, method: str, path: str, deadline: Deadline, headers: dict[str, str]
    ) -> Answer:
        if self.bulkhead is None:
            return await self._request(method, path, deadline, headers)
        async with self.bulkhead.slot():  # BulkheadFull propagates: not retried, a 503
            return await self._request(method, path, deadline, headers)

    async def _request(
        self, method: str, path: str, deadline: Deadline, headers: dict[str, str]
    ) -> Answer:
        try:
            async with self.session.request(
                method, self.base_url + path, headers={**headers, **deadline.header(self.margin_s)}
            ) as response:
                raw = await response.read()
        except aiohttp.ClientError as exc:
            # aiohttp's own errors are not all OSErrors; the retry rules speak of connections.
            self._record(accepted=False)
            raise ConnectionError(f"{self.name}: {type(exc).__name__}") from exc
        except TimeoutError:
            self._record(accepted=False)
            raise
        self._record(accepted=response.status not in OVERLOADED)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:  # an upstream that answers something other than JSON
            body = None
        return Answer(response.status, body)

    def _record(self, accepted: bool) -> None:
        if self.throttle is not None:
            self.throttle.record(accepted)

    async def call(
        self,
        method: str,
        path: str,
        deadline: Deadline,
        headers: dict[str, str] | None = None,
        idempotency_key: bool = False,
    ) -> Answer:
        """The last answer, with how many attempts it took and why it stopped. Raises
        TimeoutError / ConnectionError when no attempt got an answer, BulkheadFull, Throttled."""
        # Asked once per call, not per attempt: a refused retry would hide the real failure
        # behind "throttled". Every attempt's answer is recorded, though.
        if self.throttle is not None and not self.throttle.allow():
            raise Throttled(f"{self.name}: shed by the adaptive throttle")
        policy = dataclasses.replace(self.policy, deadline_s=deadline.remaining())

        async def attempt(seconds_left: float) -> Answer:
            return await self._send(method, path, deadline, headers or {})

        outcome = await call_with_retries(
            attempt,
            lambda a: a.status,
            method=method,
            policy=policy,
            budget=self.budget,
            idempotency_key=idempotency_key,
            rng=self.rng,
        )
        if outcome.result is None:
            raise outcome.error or TimeoutError("deadline spent before the first attempt")
        return dataclasses.replace(
            outcome.result, attempts=outcome.attempts, stopped=outcome.stopped
        )
