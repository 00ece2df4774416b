"""TOTP with pyotp: enrolment (URI, QR), the one-step window, a code accepted once, and
single-use recovery codes."""

from __future__ import annotations

from typing import Any

import pyotp
from fastapi.testclient import TestClient

from auth.totp import code_at, matching_step, provisioning_uri, qr_terminal
from tests.conftest import PEOPLE, Clock, Factory, bearer_for, error_code

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_codes_match_pyotp_and_the_rfc_6238_vector() -> None:
    assert code_at(SECRET, 1_700_000_000) == pyotp.TOTP(SECRET).at(1_700_000_000)
    # RFC 6238 appendix B, SHA1, T = 59 s, 8 digits, secret "12345678901234567890".
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert code_at(rfc_secret, 59, digits=8) == "94287082"
    assert code_at(rfc_secret, 59, digits=8, algorithm="SHA256") != "94287082"


def test_one_step_either_side_is_accepted_two_are_not() -> None:
    now = 1_700_000_010.0
    step = int(now) // 30
    for offset, expected in [(-2, None), (-1, step - 1), (0, step), (1, step + 1), (2, None)]:
        code = code_at(SECRET, now + 30 * offset)
        assert matching_step(SECRET, code, now) == expected
    assert (
        matching_step(SECRET, "12345", now) is None and matching_step(SECRET, "abcdef", now) is None
    )


def test_the_uri_and_the_qr_codes() -> None:
    uri = provisioning_uri(SECRET, "ada", "Lesson 16")
    assert uri.startswith("otpauth://totp/Lesson%2016:ada?secret=" + SECRET)
    assert "issuer=Lesson%2016" in uri
    text = qr_terminal(uri)
    assert text.count("\n") > 20 and set(text) & {"█", "▀", "▄"}


def enrol(
    client: TestClient, clock: Clock, who: str = "bob"
) -> tuple[dict[str, str], str, list[str]]:
    headers = bearer_for(client, who)
    enrolment = client.post("/mfa/enroll", headers=headers).json()
    png = client.get("/mfa/qr.png", headers=headers)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["cache-control"] == "no-store"
    wrong = client.post("/mfa/confirm", json={"code": "000000"}, headers=headers)
    assert wrong.status_code == 400 and error_code(wrong) == "invalid_otp"
    confirmed = client.post(
        "/mfa/confirm", json={"code": code_at(enrolment["secret"], clock())}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return headers, enrolment["secret"], confirmed.json()["recovery_codes"]


def login(client: TestClient, who: str, otp: str | None = None) -> Any:
    form = {"grant_type": "password", "username": who, "password": PEOPLE[who][0]}
    if otp is not None:
        form["otp"] = otp
    return client.post("/token", data=form)


def test_after_enrolment_login_needs_a_fresh_code_once(make_client: Factory, clock: Clock) -> None:
    client = make_client()
    _, secret, codes = enrol(client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10

    assert error_code(login(client, "bob")) == "mfa_required"
    clock.advance(30)  # the enrolment code's step is spent: the next step's code
    code = code_at(secret, clock())
    assert login(client, "bob", code).status_code == 200
    replay = login(client, "bob", code)
    assert replay.status_code == 401 and error_code(replay) == "invalid_otp"
    clock.advance(30)
    assert login(client, "bob", code_at(secret, clock() - 30)).status_code == 401  # older step
    assert login(client, "bob", code_at(secret, clock())).status_code == 200


def test_a_recovery_code_works_once(make_client: Factory, clock: Clock) -> None:
    client = make_client()
    _, _, codes = enrol(client, clock)
    assert login(client, "bob", codes[3].lower()).status_code == 200  # case and dashes loose
    assert login(client, "bob", codes[3]).status_code == 401
    assert login(client, "bob", "AAAAA-BBBBB-CCCCC-DDDDD").status_code == 401


def test_enrolment_cannot_restart_once_enabled(make_client: Factory, clock: Clock) -> None:
    client = make_client()
    headers, _, _ = enrol(client, clock)
    assert client.post("/mfa/enroll", headers=headers).status_code == 409
    assert client.get("/mfa/qr.png", headers=headers).status_code == 409
