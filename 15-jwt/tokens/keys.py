"""Signing keys: one algorithm per key, a ``kid`` to find it, PEM on disk, JWK when published.

A key is bound to exactly one algorithm. The verifier reads the algorithm from the key it
found by ``kid``, never from the token: that single rule defeats ``alg: none`` and the
RS256 -> HS256 key confusion, where an attacker signs with the *public* key as an HMAC secret.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")
ASYMMETRIC = ("RS256", "ES256", "EdDSA")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    # bytes for HS256 (the shared secret), a cryptography private key object otherwise
    private: Any

    @functools.cached_property
    def public(self) -> Any:
        """What a verifier needs: the public key, or for HS256 the same secret (so keep it).
        Cached: deriving it from the private key again costs more than a verification."""
        return self.private if self.alg == "HS256" else self.private.public_key()

    def public_jwk(self) -> dict[str, Any]:
        """The RFC 7517 JWK of the public key, with ``kid``, ``alg`` and ``use`` set.

        ``alg`` in the JWK is what makes the allow-list travel with the key: a verifier that
        reads it (PyJWK does) will use this key for that algorithm and no other."""
        if self.alg == "HS256":
            raise ValueError("an HS256 secret is never published: anyone holding it can sign")
        exporter: Any = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}[
            self.alg
        ]
        jwk: dict[str, Any] = exporter.to_jwk(self.public, as_dict=True)
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk

    def private_pem(self) -> bytes:
        if self.alg == "HS256":
            return base64.urlsafe_b64encode(self.private)
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def generate(alg: str) -> SigningKey:
    """A fresh key for ``alg``; its ``kid`` is derived from the public part (RFC 7638 style)."""
    if alg == "HS256":
        # 256 bits: an HMAC key shorter than the hash output weakens it (RFC 7518 3.2).
        private: Any = secrets.token_bytes(32)
    elif alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"unsupported algorithm {alg!r}: use one of {', '.join(ALGORITHMS)}")
    return SigningKey(kid=_kid(alg, private), alg=alg, private=private)


def load(kid: str, alg: str, pem: bytes) -> SigningKey:
    if alg == "HS256":
        return SigningKey(kid, alg, base64.urlsafe_b64decode(pem))
    private = serialization.load_pem_private_key(pem, password=None)
    return SigningKey(kid, alg, private)


def _kid(alg: str, private: Any) -> str:
    if alg == "HS256":
        # Never derive an HMAC kid from the secret itself: a kid is public.
        return f"hs-{secrets.token_hex(6)}"
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # A short, stable fingerprint: the same public key always gets the same kid.
    digest = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    return f"{alg.lower()}-{digest[:12]}"
