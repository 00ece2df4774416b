"""Signed, expiring session tokens (JWT, HMAC-SHA256).

Why a JWT and not a homemade signature: the format is standard (any service holding the secret
can check it), the library validates `exp` for us, and a test can mint an already-expired token
without waiting. The algorithm is pinned on decode: accepting whatever `alg` the token claims is
how "alg: none" forgeries used to get through.
"""

from __future__ import annotations

import time

import jwt

ALGORITHM = "HS256"
AUDIENCE = "chat"


class TokenError(Exception):
    """A token that must be refused; the message is safe to show the client."""


def issue_token(user: str, secret: str, ttl: float, now: float | None = None) -> str:
    issued = time.time() if now is None else now
    claims = {"sub": user, "aud": AUDIENCE, "iat": int(issued), "exp": int(issued + ttl)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str | None, secret: str) -> str:
    """Return the user name inside a valid token, or raise TokenError saying why not."""
    if not token:
        raise TokenError("missing token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token expired") from exc
    except jwt.InvalidTokenError as exc:
        # Forged, truncated, wrong audience...: the client learns no more than "invalid".
        raise TokenError("invalid token") from exc
    return str(claims["sub"])
