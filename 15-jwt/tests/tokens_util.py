"""Building test tokens with any claims and headers, signed by a ring's key."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt

from tokens.issue import ACCESS_TYP
from tokens.keys import SigningKey
from tokens.verify import Policy

ISS, AUD = "http://localhost:8000", "lesson-15-api"
POLICY = Policy(issuer=ISS, audience=AUD, leeway_s=30)


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims for now; a change to None removes that claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISS,
        "sub": "ada",
        "aud": AUD,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "j-1",
        "scope": "items:read",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: SigningKey, body: dict[str, Any], **header: Any) -> str:
    """Sign with ``key``; ``alg``, ``kid``, ``typ`` in ``header`` override the honest values."""
    alg = header.pop("alg", key.alg)
    headers = {"kid": key.kid, "typ": ACCESS_TYP, **header}
    return jwt.encode(body, key.private, algorithm=alg, headers=headers)


def sign_raw(key: SigningKey, body: dict[str, Any]) -> str:
    """Sign any JSON as the payload, past PyJWT's own checks of claim types on encode."""
    payload = json.dumps(body).encode()
    return jwt.PyJWS().encode(
        payload, key.private, algorithm=key.alg, headers={"kid": key.kid, "typ": ACCESS_TYP}
    )
