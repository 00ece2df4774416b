"""Sending one request to an upstream: pick an instance, keep the deadline, retry safely.

Failures become ``UpstreamError`` with the status the gateway answers:
  503 nothing to connect to (connection refused), or the upstream said 503,
  504 no complete answer before the route's deadline,
  502 the upstream broke the protocol (closed mid-response and the like), or said 502.
An upstream's 502 or 503 means "this instance cannot serve now", not an answer about the
request, so it is retried and, if it is the last word, answered in the gateway's JSON error
shape like every other failure to reach a service. Other statuses, 500 and 504 included, are
the service's own answer about this request and pass through with their body.

The client is aiohttp: on this machine it spends 6 to 11 times less CPU per request than
httpx, and a gateway is mostly its HTTP client (bench.py measures both; docs/notes.md).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterable

import aiohttp
from yarl import URL

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


def new_session() -> aiohttp.ClientSession:
    """The gateway's one client: a pool of keep-alive connections to every upstream."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=100),
        # No timeout here: each request carries its route's deadline (``asyncio.timeout_at``).
        timeout=aiohttp.ClientTimeout(total=None),
        # Bytes pass through as the upstream sent them, compressed or not, and the client's
        # own headers go out unchanged: aiohttp must not add an Accept-Encoding the client did
        # not send (the upstream would then compress for a client that cannot decode it).
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
    )


def body_failed(exc: aiohttp.ClientError) -> bool:
    """aiohttp reports an exception raised by the request body's iterator as a connection
    error caused by it; a real network failure is caused by an ``OSError`` or nothing."""
    cause = exc.__cause__
    return cause is not None and not isinstance(cause, OSError | aiohttp.ClientError)


class Upstream:
    """One route's upstream: its balancer plus the gateway's shared, pooled HTTP client."""

    def __init__(
        self, route: Route, balancer: Balancer, session: aiohttp.ClientSession, backoff_s: float
    ) -> None:
        self.route, self.balancer = route, balancer
        self._session, self._backoff_s = session, backoff_s

    def deadline(self) -> float:
        """When this route's budget runs out, on the event loop's clock. The budget covers the
        whole call, retries and the answer's body included, not each read: a client told
        "2 s" gets an answer or a 504 within 2 s even from an upstream that sends a byte
        every 0.8 s."""
        return asyncio.get_running_loop().time() + self.route.timeout_s

    async def send(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]] | None,
        body: Body,
        deadline: float,
    ) -> aiohttp.ClientResponse:
        """Send ``method target`` (path plus query) and return once the status and headers are
        in. The caller reads the body before ``deadline`` (``read_body``) and releases it."""
        # A streamed body can be sent once only, so it is never retried whatever the method.
        replayable = body is None or isinstance(body, bytes)
        attempts = 1 + self.route.retries if method in IDEMPOTENT and replayable else 1
        tried: set[str] = set()
        # What to answer if the deadline passes between attempts: the last failure seen.
        error = self.timeout_error()
        for attempt in range(attempts):
            instance = self.balancer.pick(exclude=tried)
            tried.add(instance.url)
            # encoded=True: the path goes out as the client encoded it (%2F stays one segment).
            url = URL(instance.url + target, encoded=True)
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self._session.request(
                        method, url, headers=headers, data=body, allow_redirects=False
                    )
            except TimeoutError:
                # The budget is spent: retrying would answer later than the client was promised.
                self.balancer.failed(instance)
                raise self.timeout_error() from None
            except aiohttp.ClientConnectorError as exc:
                self.balancer.failed(instance)
                error = UpstreamError(503, "upstream_unavailable", f"{self.route.name}: {exc}")
            except aiohttp.ClientError as exc:
                if body_failed(exc):
                    # Reading the client's body failed (it hung up, or passed the size cap):
                    # not the upstream's fault, and nothing to retry. aiohttp wraps the error.
                    raise exc.__cause__ from None  # type: ignore[misc]
                self.balancer.failed(instance)
                error = UpstreamError(502, "bad_gateway", f"{self.route.name}: {exc!r}")
            else:
                status = response.status
                # A 5xx is the application's answer; it ejects only when it keeps coming.
                self.balancer.answered(instance, status)
                if status not in RETRY_STATUSES:
                    return response
                # Its body is dropped: the client gets one error shape whichever hop failed.
                response.release()
                message = f"{self.route.name} answered {status}"
                error = UpstreamError(status, RETRY_STATUSES[status], message)
            if attempt + 1 == attempts:
                break
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            await self._backoff(attempt, remaining)
        raise error

    async def read_body(self, response: aiohttp.ClientResponse, deadline: float) -> bytes:
        """The whole body, before the deadline; the connection goes back to the pool."""
        try:
            async with asyncio.timeout_at(deadline):
                return await response.read()
        except TimeoutError:
            response.close()  # a half-read connection cannot be reused
            late = self._late("answer not finished")
            raise UpstreamError(504, "upstream_timeout", late) from None
        except aiohttp.ClientError as exc:
            response.close()
            raise UpstreamError(502, "bad_gateway", f"{self.route.name}: {exc!r}") from None
        finally:
            response.release()

    async def fetch(
        self, target: str, headers: list[tuple[str, str]] | None = None
    ) -> tuple[int, bytes]:
        """GET ``target`` and read the answer whole, all within one deadline (composition)."""
        deadline = self.deadline()
        response = await self.send("GET", target, headers, None, deadline)
        return response.status, await self.read_body(response, deadline)

    def timeout_error(self) -> UpstreamError:
        return UpstreamError(504, "upstream_timeout", self._late("no answer"))

    def _late(self, what: str) -> str:
        return f"{self.route.name}: {what} in {self.route.timeout_s} s"

    async def _backoff(self, attempt: int, remaining: float) -> None:
        # Exponential with full jitter: retries from many clients spread out instead of
        # arriving together at the instance that just came back.
        delay = random.uniform(0, self._backoff_s * 2**attempt)
        await asyncio.sleep(min(delay, remaining))
