"""Issuing access tokens: every registered claim set, signed by the ring's current key."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from tokens.keyring import KeyRing

# RFC 9068: "at+jwt" in the header says "this is an access token". A verifier that demands it
# will not take an ID token or any other JWT signed by the same key as an access token.
ACCESS_TYP = "at+jwt"


class Issuer:
    def __init__(self, ring: KeyRing, issuer: str, audience: str, access_ttl_s: int) -> None:
        self.ring, self.issuer, self.audience, self.ttl = ring, issuer, audience, access_ttl_s

    def access_token(
        self,
        sub: str,
        scopes: list[str],
        sid: str,
        ver: int,
        now: float | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A signed access token and its claims.

        ``sid`` names the refresh-token family (the login session) it came from, so logout can
        end that session; ``ver`` is the user's token version, so "log out everywhere" can
        invalidate every token issued before it with one counter."""
        now = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            # 128 random bits: unique without coordination, the handle a denylist keys on.
            "jti": secrets.token_urlsafe(16),
            "scope": " ".join(scopes),  # RFC 8693 / 9068: space-separated
            "sid": sid,
            "ver": ver,
        }
        key = self.ring.current
        token = jwt.encode(
            claims, key.private, algorithm=key.alg, headers={"kid": key.kid, "typ": ACCESS_TYP}
        )
        return token, claims
