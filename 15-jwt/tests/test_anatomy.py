"""header.payload.signature by hand: the stdlib decoder agrees with PyJWT, and decoding is
not verifying."""

from __future__ import annotations

import jwt
import pytest

from tests.tokens_util import POLICY, claims, sign
from tokens import anatomy
from tokens.keyring import KeyRing
from tokens.verify import RingKeys, TokenRefused, verify


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing("ES256", 600)


def test_base64url_has_no_padding_and_round_trips() -> None:
    for n in range(0, 10):
        data = bytes(range(250, 250 - n, -1))
        text = anatomy.b64url_encode(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert anatomy.b64url_decode(text) == data


def test_hand_decoder_reads_what_pyjwt_reads(ring: KeyRing) -> None:
    token = sign(ring.current, claims(sub="grace"))
    parts = anatomy.split(token)
    assert parts.header == jwt.get_unverified_header(token)
    assert parts.claims == jwt.decode(token, options={"verify_signature": False})
    assert parts.signing_input == token.rsplit(".", 1)[0].encode()
    assert parts.header["kid"] == ring.current.kid and parts.claims["sub"] == "grace"


def test_decoding_is_not_verifying(ring: KeyRing) -> None:
    """Given a token whose payload was rewritten, when decoded it reads fine; when verified
    it is refused, because the signature covers the original bytes."""
    token = sign(ring.current, claims(sub="bob"))
    parts = anatomy.split(token)
    forged = anatomy.assemble(parts.header, {**parts.claims, "sub": "admin"}, parts.signature)
    assert anatomy.split(forged).claims["sub"] == "admin"
    with pytest.raises(TokenRefused) as refused:
        verify(forged, RingKeys(ring), POLICY)
    assert refused.value.reason == "bad_signature"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.e30.",
        "e30=.e30.",
        "W10.e30.",
        "e30.bm90IGpzb24.",
        "é.e30.",
    ],
)
def test_malformed_text_is_refused_by_shape(text: str) -> None:
    with pytest.raises(anatomy.MalformedToken):
        anatomy.split(text)


def test_oversized_text_is_refused_before_decoding() -> None:
    with pytest.raises(anatomy.MalformedToken, match="more than"):
        anatomy.split("e30." + "A" * 10_000 + ".x")
