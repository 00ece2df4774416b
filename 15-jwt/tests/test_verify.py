"""Issue and verify with every algorithm; every registered claim required and checked."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.tokens_util import AUD, ISS, POLICY, claims, sign
from tokens.issue import Issuer
from tokens.keyring import KeyRing
from tokens.verify import REGISTERED, Policy, RingKeys, TokenRefused, verify

ALGS = ["HS256", "RS256", "ES256", "EdDSA"]


@pytest.fixture(scope="module", params=ALGS)
def ring(request: pytest.FixtureRequest) -> KeyRing:
    return KeyRing(request.param, 600)


def refusal(token: str, ring: KeyRing, policy: Policy = POLICY) -> str:
    with pytest.raises(TokenRefused) as refused:
        verify(token, RingKeys(ring), policy)
    return refused.value.reason


def test_issued_token_verifies_with_every_algorithm(ring: KeyRing) -> None:
    token, issued = Issuer(ring, ISS, AUD, 300).access_token("ada", ["items:read"], "s1", 0)
    got = verify(token, RingKeys(ring), POLICY)
    assert got == issued
    assert set(REGISTERED) <= set(got)
    assert got["exp"] - got["iat"] == 300


@pytest.mark.parametrize("claim", REGISTERED)
def test_each_registered_claim_is_required(ring: KeyRing, claim: str) -> None:
    assert refusal(sign(ring.current, claims(**{claim: None})), ring) == "missing_claim"


def test_expired_and_not_yet_valid(ring: KeyRing) -> None:
    now = int(time.time())
    assert refusal(sign(ring.current, claims(exp=now - 120)), ring) == "expired"
    assert refusal(sign(ring.current, claims(nbf=now + 120)), ring) == "not_yet_valid"


def test_leeway_absorbs_small_clock_skew_only(ring: KeyRing) -> None:
    """Expired 10 s ago passes with 30 s of leeway and fails with none."""
    now = int(time.time())
    token = sign(ring.current, claims(exp=now - 10, iat=now - 300, nbf=now - 300))
    assert verify(token, RingKeys(ring), POLICY)["sub"] == "ada"
    assert refusal(token, ring, replace(POLICY, leeway_s=0)) == "expired"
    early = sign(ring.current, claims(nbf=now + 10, iat=now))
    assert verify(early, RingKeys(ring), POLICY)["sub"] == "ada"


def test_wrong_audience_and_issuer(ring: KeyRing) -> None:
    assert refusal(sign(ring.current, claims(aud="another-api")), ring) == "wrong_audience"
    assert refusal(sign(ring.current, claims(iss="http://localhost:9999")), ring) == "wrong_issuer"


def test_a_jwt_that_is_not_an_access_token_is_refused(ring: KeyRing) -> None:
    """An ID token signed by the same key is still not an access token (RFC 9068 typ)."""
    assert refusal(sign(ring.current, claims(), typ="JWT"), ring) == "wrong_type"


def test_claims_of_the_wrong_type_are_refused(ring: KeyRing) -> None:
    assert refusal(sign(ring.current, claims(exp="tomorrow")), ring) == "malformed"
    assert refusal(sign(ring.current, claims(sub=42)), ring) == "bad_claim"
