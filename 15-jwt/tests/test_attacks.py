"""Every classic attack on JWTs, each refused. The verifier takes the algorithm from the key
it found by kid, never from the token, and follows no key the token points at."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from demo.server import ServerThread
from tests.conftest import bearer, login
from tests.tokens_util import POLICY, claims, sign
from tokens import anatomy, keys
from tokens.keyring import KeyRing
from tokens.settings import Settings
from tokens.verify import RingKeys, StaticKey, TokenRefused, verify


@pytest.fixture(scope="module")
def rsa_ring() -> KeyRing:
    return KeyRing("RS256", 600)


def reason(token: str, ring: KeyRing) -> str:
    with pytest.raises(TokenRefused) as refused:
        verify(token, RingKeys(ring), POLICY)
    return refused.value.reason


def unsigned(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> str:
    return anatomy.assemble(header, body, signature)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused(rsa_ring: KeyRing, alg: str) -> None:
    token = unsigned({"alg": alg, "kid": rsa_ring.current.kid, "typ": "at+jwt"}, claims())
    assert reason(token, rsa_ring) == "alg_not_allowed"


def test_rs256_to_hs256_key_confusion_is_refused(rsa_ring: KeyRing) -> None:
    """The attacker HMACs the token with the RSA *public* key (it is published) as the secret
    and says alg HS256. A verifier that lets the token pick the algorithm would check that
    HMAC with the same public key - and accept it."""
    public_pem = rsa_ring.current.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": rsa_ring.current.kid, "typ": "at+jwt"}
    signing_input = unsigned(header, claims(scope="admin")).rsplit(".", 1)[0]
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{anatomy.b64url_encode(mac)}"
    assert reason(forged, rsa_ring) == "alg_not_allowed"
    # Even a naive allow-list of both algorithms for one key is saved, one layer down, by
    # PyJWT refusing to use a PEM public key as an HMAC secret.
    with pytest.raises(TokenRefused) as refused:
        verify(forged, StaticKey(public_pem, frozenset({"RS256", "HS256"})), POLICY)
    assert refused.value.reason == "bad_key"


def test_tampered_payload_and_header_are_refused(rsa_ring: KeyRing) -> None:
    parts = anatomy.split(sign(rsa_ring.current, claims(scope="items:read")))
    more = anatomy.assemble(parts.header, {**parts.claims, "scope": "items:write"}, parts.signature)
    assert reason(more, rsa_ring) == "bad_signature"
    other = {**parts.header, "kid": rsa_ring.published()[1].key.kid}  # the "next" key
    assert reason(anatomy.assemble(other, parts.claims, parts.signature), rsa_ring) == (
        "bad_signature"
    )


@pytest.mark.parametrize(
    "kid",
    [
        "../../../../dev/null",
        "' OR '1'='1' --",
        "",
        "http://127.0.0.1:9/jwks.json",
        "x" * 500,
        123,
        ["a"],
        {"$ne": None},
        None,
    ],
)
def test_unknown_or_malicious_kid_is_refused(rsa_ring: KeyRing, kid: object) -> None:
    # Built by hand: PyJWT itself will not put a kid that is not a string into a header.
    parts = anatomy.split(sign(keys.generate("ES256"), claims()))
    header = {k: v for k, v in parts.header.items() if k != "kid"}
    if kid is not None:
        header["kid"] = kid
    token = anatomy.assemble(header, parts.claims, parts.signature)
    assert reason(token, rsa_ring) == "unknown_kid"


def test_embedded_jwk_is_never_trusted(rsa_ring: KeyRing) -> None:
    """CVE-2018-0114 style: the token carries its own public key in a `jwk` header."""
    attacker = keys.generate("RS256")
    token = sign(attacker, claims(), kid=rsa_ring.current.kid, jwk=attacker.public_jwk())
    assert reason(token, rsa_ring) == "bad_signature"


def test_jku_header_is_never_fetched(
    rsa_ring: KeyRing, serve: Callable[[Any], ServerThread]
) -> None:
    """The token points at the attacker's own JWKS; the verifier does not even look."""
    attacker = keys.generate("RS256")
    hits: list[str] = []
    evil = FastAPI()

    @evil.get("/jwks.json")
    async def jwks(request: Request) -> dict[str, Any]:
        hits.append(request.url.path)
        return {"keys": [attacker.public_jwk()]}

    server = serve(evil)
    token = sign(attacker, claims(), kid=attacker.kid, jku=f"{server.url}/jwks.json")
    assert reason(token, rsa_ring) == "unknown_kid"
    assert hits == []


def test_critical_header_extensions_are_refused(rsa_ring: KeyRing) -> None:
    token = sign(rsa_ring.current, claims(), crit=["exp"])
    assert reason(token, rsa_ring) == "malformed"


def test_token_in_the_query_string_is_refused(client: TestClient) -> None:
    """Even a valid token: URLs end up in logs, history and Referer headers."""
    token = login(client)["access_token"]
    answer = client.get("/me", params={"access_token": token})
    assert answer.status_code == 400
    assert answer.json()["error"]["reason"] == "token_in_query"
    both = client.get("/me", params={"access_token": token}, headers=bearer(token))
    assert both.status_code == 400
    assert token not in answer.text


def test_replayed_refresh_token_revokes_the_family(client: TestClient) -> None:
    first = login(client)
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    rotated = client.post("/token", data=refresh)
    assert rotated.status_code == 200
    replay = client.post("/token", data=refresh)
    assert replay.status_code == 400 and replay.json()["error"]["reason"] == "reused"
    # The rotated token, legitimately held, died with the family: both parties log in again.
    after = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]},
    )
    assert after.status_code == 400 and after.json()["error"]["reason"] == "revoked"


def test_oversized_token_is_refused_before_any_parsing(client: TestClient) -> None:
    huge = "e30." + "A" * 9000 + ".sig"
    answer = client.get("/me", headers=bearer(huge))
    assert answer.status_code == 401
    assert answer.json()["error"]["reason"] == "too_large"
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_wrong_scheme_and_garbage_tokens_are_401_not_500(client: TestClient) -> None:
    for header in ["Basic YWRhOnB3", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer ....."]:
        answer = client.get("/me", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.json()["error"]["code"] == "invalid_token"


def test_pyjwt_itself_refuses_none_without_an_allow_list() -> None:
    """The library default is safe too: decode() without algorithms is an error."""
    token = unsigned({"alg": "none"}, claims())
    with pytest.raises(jwt.DecodeError):
        jwt.decode(token, "secret")  # no algorithms= given


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": -120}, "expired"),
        ({"nbf": 120}, "not_yet_valid"),
        ({"aud": "another-api"}, "wrong_audience"),
        ({"iss": "http://localhost:9999"}, "wrong_issuer"),
        ({"jti": None}, "missing_claim"),
    ],
)
def test_expired_early_and_foreign_tokens_are_401_over_http(
    client: TestClient, settings: Settings, changes: dict[str, Any], reason: str
) -> None:
    """Signed with the server's own current key - only the claims are wrong."""
    ring = KeyRing(settings.algorithm, settings.key_retire_after_s, settings.key_dir)
    now = int(time.time())
    body = claims(iss=settings.issuer, aud=settings.audience, ver=0, sid="s")
    for name, value in changes.items():
        body[name] = now + value if name in ("exp", "nbf") else value
    token = sign(ring.current, {k: v for k, v in body.items() if v is not None})
    answer = client.get("/me", headers=bearer(token))
    assert answer.status_code == 401 and answer.json()["error"]["reason"] == reason
    assert f'error_description="{reason}"' in answer.headers["www-authenticate"]
