"""Sending one request to an upstream: pick an instance, keep the time budget, retry safely.

Failures become ``UpstreamError`` with the status the gateway answers:
  503 nothing to connect to (connection refused), or the upstream said 503,
  504 connected but no answer within the route's budget,
  502 the upstream broke the protocol (closed mid-response and the like), or said 502.
An upstream's 502 or 503 means "this instance cannot serve now", not an answer about the
request, so it is retried and, if it is the last word, answered in the gateway's JSON error
shape like every other failure to reach a service. Other statuses, 500 and 504 included, are
the service's own answer about this request and pass through with their body.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterable

import httpx

from gateway.balancer import Balancer
from gateway.settings import Route

# Methods that mean the same thing when sent twice (RFC 9110 9.2.2): only these are retried.
# A POST that timed out may have created the order; sending it again could create two.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answers that say "this instance cannot serve now", so another attempt may succeed; the
# error code the gateway answers with when it is the last attempt's answer.
RETRY_STATUSES = {502: "bad_gateway", 503: "upstream_unavailable"}

Body = bytes | AsyncIterable[bytes] | None


class UpstreamError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Upstream:
    """One route's upstream: its balancer plus the gateway's shared, pooled HTTP client."""

    def __init__(
        self, route: Route, balancer: Balancer, client: httpx.AsyncClient, backoff_s: float
    ) -> None:
        self.route, self.balancer = route, balancer
        self._client, self._backoff_s = client, backoff_s

    async def send(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]] | None = None,
        body: Body = None,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """Send ``method target`` (path plus query). With ``stream`` the caller must close it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.route.timeout_s
        # A streamed body can be sent once only, so it is never retried whatever the method.
        replayable = body is None or isinstance(body, bytes)
        attempts = 1 + self.route.retries if method in IDEMPOTENT and replayable else 1
        tried: set[str] = set()
        # What to answer if the budget runs out between attempts: the last failure seen.
        error = self._timeout()
        for attempt in range(attempts):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            instance = self.balancer.pick(exclude=tried)
            tried.add(instance.url)
            request = self._client.build_request(
                method, instance.url + target, headers=headers, content=body, timeout=remaining
            )
            last_attempt = attempt + 1 == attempts
            try:
                # Without ``stream`` the body is read here too, so an answer cut short is a
                # transport error of this attempt (502), not a crash after it.
                response = await self._client.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                self.balancer.failed(instance)
                error = UpstreamError(503, "upstream_unavailable", f"{self.route.name}: {exc!r}")
            except httpx.TimeoutException:
                # The budget is spent: retrying would answer later than the client was promised.
                self.balancer.failed(instance)
                raise self._timeout() from None
            except httpx.TransportError as exc:
                self.balancer.failed(instance)
                error = UpstreamError(502, "bad_gateway", f"{self.route.name}: {exc!r}")
            else:
                status = response.status_code
                # A 5xx counts toward ejection whether or not it is retried: an instance that
                # answers fast but always 503 is as useless as one that does not answer.
                if status >= 500:
                    self.balancer.failed(instance)
                else:
                    self.balancer.succeeded(instance)
                if status not in RETRY_STATUSES:
                    return response
                # Its body is dropped: the client gets one error shape whichever hop failed.
                await response.aclose()
                message = f"{self.route.name} answered {status}"
                error = UpstreamError(status, RETRY_STATUSES[status], message)
            if last_attempt:
                raise error
            await self._backoff(attempt, deadline - loop.time())
        raise error

    def _timeout(self) -> UpstreamError:
        budget = self.route.timeout_s
        return UpstreamError(504, "upstream_timeout", f"{self.route.name}: no answer in {budget} s")

    async def _backoff(self, attempt: int, remaining: float) -> None:
        # Exponential with full jitter: retries from many clients spread out instead of
        # arriving together at the instance that just came back.
        delay = random.uniform(0, self._backoff_s * 2**attempt)
        await asyncio.sleep(max(0.0, min(delay, remaining)))
