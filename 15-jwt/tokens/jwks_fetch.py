"""Fetching a JWKS with a deadline for the whole fetch and a cap on its size.

PyJWKClient fetches with urllib, whose ``timeout`` bounds each socket operation, not the
fetch: a JWKS server that answers one byte every few seconds holds the verifying request (and
its worker thread) for as long as it likes, and a server that answers megabytes has them
parsed. Both are refused here. A watchdog shuts the socket down when the deadline passes,
which wakes a read blocked on it - wherever it is, in the headers or in the body.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.exceptions import PyJWKClientConnectionError

# A JWK Set is a few keys of a few hundred bytes each; 256 KiB is far beyond any real one.
MAX_JWKS_BYTES = 256 * 1024


class DeadlineJWKClient(jwt.PyJWKClient):
    """PyJWKClient whose fetch ends by ``timeout`` seconds in all, and reads at most
    MAX_JWKS_BYTES. Redirects are not followed (PyJWKClient does not follow them either)."""

    def fetch_data(self) -> Any:
        started = time.monotonic()
        try:
            body = self._get(started + self.timeout)
        except ValueError as exc:  # a port that is not a number, a malformed header
            raise PyJWKClientConnectionError(f"JWKS fetch failed: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            timed_out = time.monotonic() - started >= self.timeout
            why = f"no complete answer within {self.timeout:g} s" if timed_out else str(exc)
            raise PyJWKClientConnectionError(
                f"Fail to fetch data from the url, err: {why}"
            ) from None
        try:
            jwk_set = self._as_jwk_set_payload(json.loads(body))
        except ValueError:
            raise PyJWKClientConnectionError("the JWKS endpoint did not answer JSON") from None
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        self._last_successful_fetch = time.monotonic()  # what the refetch cooldown counts from
        return jwk_set

    def _get(self, deadline: float) -> bytes:
        url = urlsplit(self.uri)
        left = max(deadline - time.monotonic(), 0.001)
        conn: http.client.HTTPConnection
        if url.scheme == "https":
            conn = http.client.HTTPSConnection(url.hostname or "", url.port, timeout=left,
                                               context=self.ssl_context)  # fmt: skip
        else:
            conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=left)
        try:
            conn.connect()  # bounded by `left`: one operation
            watchdog = threading.Timer(deadline - time.monotonic(), _shut, (conn.sock,))
            watchdog.start()
            try:
                path = (url.path or "/") + (f"?{url.query}" if url.query else "")
                conn.request("GET", path, headers=self.headers)
                response = conn.getresponse()
                if response.status != 200:
                    raise http.client.HTTPException(f"HTTP {response.status}")
                declared = int(response.headers.get("content-length") or 0)
                if declared > MAX_JWKS_BYTES:
                    raise http.client.HTTPException(f"{declared} bytes, over {MAX_JWKS_BYTES}")
                body = response.read(MAX_JWKS_BYTES + 1)
                if len(body) > MAX_JWKS_BYTES:
                    raise http.client.HTTPException(f"over {MAX_JWKS_BYTES} bytes")
                if time.monotonic() >= deadline:
                    raise TimeoutError("deadline passed")
                return body
            finally:
                watchdog.cancel()
        finally:
            conn.close()


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: the fetch ended on its own
            sock.shutdown(socket.SHUT_RDWR)
