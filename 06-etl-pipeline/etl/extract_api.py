"""Extract from the partner HTTP API: cursor pagination with polite retries under a deadline.

429 waits what Retry-After says (seconds or an HTTP date), 5xx and connection errors back off
with full jitter, and each request - connect, headers and every byte of the body - runs under
asyncio.timeout, which httpx's own per-read timeouts are not.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from etl.extract import Item, Mark, SourceError
from etl.records import RawRecord


class ApiSource:
    """Cursor pagination with polite retries: 429 waits Retry-After, 5xx backs off with jitter.

    Each request runs under asyncio.timeout: a deadline for the whole request (connect, headers
    and every byte of the body), which httpx's own timeouts - per read - are not.
    """

    def __init__(self, base: str, page_size: int, attempts: int, timeout_s: float) -> None:
        self.base, self.page_size, self.attempts, self.timeout_s = (
            base,
            page_size,
            attempts,
            timeout_s,
        )
        self.retries = 0  # how many requests were repeated, for the run's counts
        # What messages show: the URL without a password it may carry (http://user:pass@host).
        self.shown = masked(base)

    def __call__(self, since: Mark | None) -> Iterator[Item]:
        with asyncio.Runner() as runner:  # one loop and one connection pool for every page
            client = runner.run(self._client())
            try:
                params: dict[str, Any] = {"limit": self.page_size}
                if since is not None:
                    params |= {
                        "updated_after": since.updated_at.isoformat(),
                        "after_id": since.last_id,
                    }
                page = 0
                while True:
                    body = runner.run(self._get(client, params))
                    for i, item in enumerate(body["items"]):
                        data = {
                            "order_id": item.get("id"),
                            "customer_email": item.get("email"),
                            "amount": item.get("total"),
                            "currency": item.get("currency"),
                            "ordered_at": item.get("created"),
                            "updated_at": item.get("modified"),
                        }
                        # The id, not the page: pages shift with the watermark, ids do not.
                        where = f"id={item['id']}" if item.get("id") else f"page {page} item {i}"
                        yield RawRecord("api", where, data)
                    if not body.get("next_cursor"):
                        return
                    params = {"limit": self.page_size, "cursor": body["next_cursor"]}
                    page += 1
            finally:
                runner.run(client.aclose())

    async def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base)

    async def _get(self, client: httpx.AsyncClient, params: dict[str, Any]) -> dict[str, Any]:
        last = "no answer"
        for attempt in range(self.attempts):
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await client.get("/orders", params=params)
            except (httpx.TransportError, TimeoutError) as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 200:
                    return page(response)
                wait = retry_after(response.headers.get("retry-after"))
                if response.status_code == 429 and wait is not None:
                    # The server says when: waiting less only earns another 429.
                    self.retries += 1
                    await asyncio.sleep(wait)
                    continue
                if response.status_code != 429 and response.status_code < 500:
                    raise SourceError(f"api: {response.status_code} {response.text[:100]}")
                last = f"HTTP {response.status_code}"
            self.retries += 1
            # Full jitter: random in [0, 0.05 * 2^attempt], so clients do not retry in step.
            await asyncio.sleep(random.uniform(0, 0.05 * 2**attempt))
        raise SourceError(f"api: {self.shown} failed {self.attempts} times (last: {last})")


def page(response: httpx.Response) -> dict[str, Any]:
    """A 200 that is not a page (an HTML error page, a proxy's) fails the source in one line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise SourceError(f"api: a 200 without a JSON page of items: {response.text[:60]!r}")
    return body


def retry_after(header: str | None) -> float | None:
    """Seconds to wait from Retry-After - delay-seconds or an HTTP date (RFC 9110) - at most 30;
    None when absent or unreadable, and the caller backs off on its own instead."""
    if header is None:
        return None
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), 30.0) if seconds == seconds else None  # NaN: unreadable


def masked(url: str) -> str:
    """The URL with its password (if any) replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
