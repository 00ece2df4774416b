"""A JWT by hand, with the standard library only: three base64url parts joined by dots.

    header.payload.signature       e.g. eyJhbGciOi... . eyJzdWIiOi... . MEUCIQ...

The signature covers the ASCII bytes ``header.payload`` (the *signing input*), not the JSON
inside them. Decoding is not verifying: anyone can write any header and payload and encode
them. This module only reads; ``tokens.verify`` decides whether to believe what it read.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

# A token is read from a header line; nothing legitimate here comes near this size, and a
# bound keeps a hostile 1 MB "token" from costing a megabyte of base64 and JSON work.
MAX_TOKEN_BYTES = 8192


class MalformedToken(ValueError):
    """The text is not three base64url parts with a JSON object in the first two."""


def b64url_encode(data: bytes) -> str:
    # JWS (RFC 7515 section 2) drops the '=' padding: a token travels in URLs and headers.
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if "=" in text or not text.isascii():
        raise MalformedToken("base64url part with padding or non-ASCII characters")
    try:
        # Put the padding back: base64 works in blocks of 4 characters.
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken(f"not base64url: {exc}") from None


@dataclass(frozen=True)
class Parts:
    header: dict[str, Any]
    claims: dict[str, Any]
    signature: bytes
    signing_input: bytes  # what the signature covers: b"<header b64>.<payload b64>"


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise MalformedToken(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"{what} is not a JSON object")
    return value


def split(token: str, max_bytes: int = MAX_TOKEN_BYTES) -> Parts:
    """Read a compact JWS without checking anything but its shape. Never trust the result."""
    if len(token) > max_bytes:
        raise MalformedToken(f"token is {len(token)} bytes, more than {max_bytes}")
    pieces = token.split(".")
    if len(pieces) != 3:
        raise MalformedToken(f"expected 3 dot-separated parts, got {len(pieces)}")
    header_b64, payload_b64, signature_b64 = pieces
    return Parts(
        header=_json_object(b64url_decode(header_b64), "header"),
        claims=_json_object(b64url_decode(payload_b64), "payload"),
        signature=b64url_decode(signature_b64),
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
    )


def assemble(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    """The inverse of ``split``: how an attacker builds a token with any header he likes."""

    def part(obj: dict[str, Any]) -> str:
        return b64url_encode(json.dumps(obj, separators=(",", ":")).encode())

    return f"{part(header)}.{part(claims)}.{b64url_encode(signature)}"
