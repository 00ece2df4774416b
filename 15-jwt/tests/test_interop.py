"""Interop with python-jose, the other JOSE library: tokens issued here verify there, and
tokens it issues verify here, for HS256, RS256 and ES256 (python-jose has no EdDSA)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from jose import jwt as jose_jwt

from tests.tokens_util import AUD, ISS, POLICY, claims
from tokens.issue import ACCESS_TYP, Issuer
from tokens.keyring import KeyRing
from tokens.keys import SigningKey
from tokens.verify import RingKeys, verify

ALGS = ["HS256", "RS256", "ES256"]


def pem(key: SigningKey, private: bool) -> Any:
    if key.alg == "HS256":
        return key.private  # the shared secret, both ways
    if private:
        return key.private_pem().decode()
    return key.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize("alg", ALGS)
def test_our_tokens_verify_with_python_jose(alg: str) -> None:
    ring = KeyRing(alg, 600)
    token, issued = Issuer(ring, ISS, AUD, 300).access_token("ada", ["items:read"], "s", 3)
    got = jose_jwt.decode(
        token, pem(ring.current, private=False), algorithms=[alg], audience=AUD, issuer=ISS
    )
    assert got == issued
    assert jose_jwt.get_unverified_header(token)["kid"] == ring.current.kid


@pytest.mark.parametrize("alg", ALGS)
def test_python_jose_tokens_verify_here(alg: str) -> None:
    ring = KeyRing(alg, 600)
    key = ring.current
    body = claims(sub="grace")
    token = jose_jwt.encode(
        body, pem(key, private=True), algorithm=alg, headers={"kid": key.kid, "typ": ACCESS_TYP}
    )
    assert verify(token, RingKeys(ring), POLICY) == body


def test_python_jose_reads_our_published_jwk() -> None:
    """The JWKS entry itself is enough for python-jose: no PEM needs to change hands."""
    ring = KeyRing("ES256", 600)
    token, _ = Issuer(ring, ISS, AUD, 300).access_token("ada", [], "s", 0)
    jwk = ring.jwks()["keys"][0]
    assert jwk["kid"] == ring.current.kid
    got = jose_jwt.decode(token, jwk, algorithms=["ES256"], audience=AUD, issuer=ISS)
    assert got["sub"] == "ada"
