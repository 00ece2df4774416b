"""Verifying a token: find the key by ``kid``, take the algorithm from the key, then check
the signature and every registered claim. Each refusal has a stable reason code.

The order matters. The header is read unverified only to pick a key; nothing else in it is
believed. ``jku``, ``x5u``, ``jwk`` and ``x5c`` (headers that point at or carry a key) are
never followed: keys come only from the configured key source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError

from tokens import anatomy
from tokens.issue import ACCESS_TYP
from tokens.jwks_fetch import DeadlineJWKClient
from tokens.keyring import KeyRing

REGISTERED = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")


class TokenRefused(Exception):
    """The token is not accepted. ``reason`` is a stable code; ``detail`` is for people."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


class KeysUnavailable(Exception):
    """The key source (a JWKS URL) did not answer: not the token's fault, so not a 401."""


@dataclass(frozen=True)
class Policy:
    issuer: str | None
    audience: str | None
    leeway_s: float = 30.0  # clock skew between the issuer's and this machine's clock
    require: tuple[str, ...] = REGISTERED
    verify_exp: bool = True
    typ: str | None = ACCESS_TYP
    max_bytes: int = anatomy.MAX_TOKEN_BYTES


class KeySource(Protocol):
    def key_for(self, kid: object) -> tuple[Any, frozenset[str]] | None:
        """The verification key for this kid and the algorithms allowed with it, or None."""


class RingKeys:
    """Keys of this process's own ring (the auth server verifying its own tokens)."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def key_for(self, kid: object) -> tuple[Any, frozenset[str]] | None:
        key = self.ring.find(kid)
        return None if key is None else (key.public, frozenset({key.alg}))


class RemoteKeys:
    """Keys from a JWKS URL, through PyJWKClient: the JWK Set is cached for ``lifespan_s``, and
    an unknown kid forces at most one refetch per ``cooldown_s`` (so a flood of tokens with
    made-up kids cannot turn into a flood of requests to the auth server). Each fetch has a
    deadline and a size cap (jwks_fetch.py): a request waiting on it waits at most that long."""

    def __init__(
        self, url: str, lifespan_s: float = 300, cooldown_s: float = 30, timeout_s: float = 5
    ) -> None:
        self.client = DeadlineJWKClient(
            url, lifespan=lifespan_s, cooldown_duration=cooldown_s, timeout=timeout_s
        )

    def key_for(self, kid: object) -> tuple[Any, frozenset[str]] | None:
        if not isinstance(kid, str):
            return None
        try:
            jwk = self.client.get_signing_key(kid)
        except PyJWKClientConnectionError as exc:
            raise KeysUnavailable(f"JWKS not reachable at {self.client.uri}: {exc}") from None
        except PyJWKClientError:
            return None
        # The JWK's own "alg" (PyJWK infers it from kty/crv when absent) is the allow-list.
        return jwk.key, frozenset({jwk.algorithm_name})


class StaticKey:
    """One key given by hand (the CLI's --secret-b64url or --jwk), with explicit algorithms."""

    def __init__(self, key: Any, algorithms: frozenset[str]) -> None:
        self.key, self.algorithms = key, algorithms

    def key_for(self, kid: object) -> tuple[Any, frozenset[str]] | None:
        return self.key, self.algorithms


# PyJWT's exceptions -> our reason codes. Order: subclasses before their bases.
_REASONS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAudienceError, "wrong_audience"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidIssuedAtError, "bad_claim"),
    (jwt.exceptions.InvalidSubjectError, "bad_claim"),
    (jwt.exceptions.InvalidJTIError, "bad_claim"),
    (jwt.InvalidKeyError, "bad_key"),
    (jwt.InvalidAlgorithmError, "alg_not_allowed"),
    (jwt.DecodeError, "malformed"),
]


def verify(
    token: str, keys: KeySource, policy: Policy, algorithms: frozenset[str] | None = None
) -> dict[str, Any]:
    """The token's claims if every check passes; TokenRefused naming the first that fails.

    ``algorithms`` narrows further what the key allows (the CLI's --alg); it never widens it."""
    if len(token) > policy.max_bytes:
        raise TokenRefused("too_large", f"{len(token)} bytes, the limit is {policy.max_bytes}")
    try:
        header = anatomy.split(token, policy.max_bytes).header
    except anatomy.MalformedToken as exc:
        raise TokenRefused("malformed", str(exc)) from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise TokenRefused("alg_not_allowed", f"algorithm {alg!r} is never accepted")
    if "crit" in header:
        # RFC 7515 4.1.11: extensions we do not implement must make the token invalid.
        raise TokenRefused("malformed", "critical header extensions are not supported")
    found = keys.key_for(header.get("kid"))
    if found is None:
        raise TokenRefused("unknown_kid", f"no key with kid {str(header.get('kid'))[:40]!r}")
    key, allowed = found
    if hasattr(key, "public_key"):
        # A private key where a public one belongs (a private JWK handed to the CLI, a JWKS
        # that leaks "d"): verification needs only its public half.
        key = key.public_key()
    if algorithms is not None:
        allowed = allowed & algorithms
    if alg not in allowed:
        raise TokenRefused(
            "alg_not_allowed", f"token says {alg}, its key allows {', '.join(sorted(allowed))}"
        )
    if policy.typ is not None and header.get("typ") != policy.typ:
        raise TokenRefused("wrong_type", f"typ {header.get('typ')!r}, expected {policy.typ!r}")
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[alg],  # exactly one, the key's: never a list the token can pick from
            audience=policy.audience,
            issuer=policy.issuer,
            leeway=policy.leeway_s,
            options={
                "require": [c for c in policy.require if c != "exp" or policy.verify_exp],
                "verify_exp": policy.verify_exp,
                "verify_aud": policy.audience is not None,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.PyJWTError as exc:
        reason = next((code for kind, code in _REASONS if isinstance(exc, kind)), "invalid")
        raise TokenRefused(reason, str(exc)) from None
