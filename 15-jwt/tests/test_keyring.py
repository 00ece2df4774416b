"""Signing keys: the JWKS document is valid RFC 7517, rotation keeps old tokens valid until
they expire, and keys persist across restarts without ever being world-readable."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest
from jwt import PyJWKSet

from tests.tokens_util import AUD, ISS, POLICY
from tokens.issue import Issuer
from tokens.keyring import KeyRing
from tokens.verify import RingKeys, TokenRefused, verify

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}
RETIRE = 330


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_jwks_is_a_valid_rfc7517_document(alg: str) -> None:
    ring = KeyRing(alg, RETIRE)
    ring.rotate()  # next, current and retiring: three keys
    document = json.loads(json.dumps(ring.jwks()))  # what goes over the wire
    assert list(document) == ["keys"] and len(document["keys"]) == 3
    kids = [k["kid"] for k in document["keys"]]
    assert len(set(kids)) == 3
    for jwk in document["keys"]:
        assert jwk["kty"] == {"RS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}[alg]
        assert jwk["alg"] == alg and jwk["use"] == "sig"
        assert not PRIVATE_MEMBERS & set(jwk), "a private key member was published"
    parsed = PyJWKSet.from_dict(document)
    assert [k.key_id for k in parsed.keys] == kids
    assert {k.algorithm_name for k in parsed.keys} == {alg}


def test_an_hmac_secret_is_never_published() -> None:
    assert KeyRing("HS256", RETIRE).jwks() == {"keys": []}


def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_next_key() -> None:
    ring = KeyRing("ES256", RETIRE)
    issuer = Issuer(ring, ISS, AUD, 300)
    old_token, _ = issuer.access_token("ada", [], "s", 0)
    old_kid, next_kid = ring.current.kid, ring.published()[1].key.kid
    ring.rotate()
    assert ring.current.kid == next_kid  # published one rotation ahead
    new_token, _ = issuer.access_token("ada", [], "s", 0)
    assert verify(old_token, RingKeys(ring), POLICY)["sub"] == "ada"
    assert verify(new_token, RingKeys(ring), POLICY)["sub"] == "ada"
    states = {e.key.kid: e.state for e in ring.published()}
    assert states[old_kid] == "retiring" and states[next_kid] == "current"
    assert list(states.values()).count("next") == 1


def test_a_retired_key_is_gone_and_its_tokens_with_it() -> None:
    ring = KeyRing("ES256", RETIRE)
    old_token, _ = Issuer(ring, ISS, AUD, 300).access_token("ada", [], "s", 0)
    ring.rotate(now=time.time() - RETIRE - 1)  # rotated long enough ago: retire time passed
    assert len(ring.jwks()["keys"]) == 2
    with pytest.raises(TokenRefused) as refused:
        verify(old_token, RingKeys(ring), POLICY)
    assert refused.value.reason == "unknown_kid"


def test_keys_survive_a_restart_and_are_private_files(tmp_path: Path) -> None:
    ring = KeyRing("EdDSA", RETIRE, tmp_path / "keys")
    ring.rotate()
    again = KeyRing("EdDSA", RETIRE, tmp_path / "keys")
    assert again.jwks() == ring.jwks() and again.current.kid == ring.current.kid
    for pem in (tmp_path / "keys").glob("*.pem"):
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600


def test_a_retired_private_key_is_deleted_from_disk(tmp_path: Path) -> None:
    ring = KeyRing("ES256", RETIRE, tmp_path / "keys")
    first = ring.current.kid
    ring.rotate(now=time.time() - RETIRE - 1)  # its retire time is already past
    ring.rotate()  # the next save drops it
    assert not (tmp_path / "keys" / f"{first}.pem").exists()
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 3


def test_changing_the_algorithm_starts_a_new_ring(tmp_path: Path) -> None:
    es = KeyRing("ES256", RETIRE, tmp_path / "keys")
    rs = KeyRing("RS256", RETIRE, tmp_path / "keys")
    assert rs.current.alg == "RS256" and rs.current.kid != es.current.kid
    assert (tmp_path / "keys" / f"{es.current.kid}.pem").exists()  # left for a manual look
