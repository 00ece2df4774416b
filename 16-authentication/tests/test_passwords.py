"""Password storage without HTTP: argon2id by default, bcrypt understood, upgrades on login,
bcrypt's 72-byte limit."""

from __future__ import annotations

import bcrypt
import pytest

from auth.passwords import Argon2Params, PasswordRejected, Passwords

CHEAP = Argon2Params(memory_kib=64, time_cost=1, parallelism=1)


@pytest.fixture
def pw() -> Passwords:
    return Passwords(CHEAP, bcrypt_rounds=4, max_bytes=1024)


def test_new_hashes_are_argon2id_with_a_salt_each(pw: Passwords) -> None:
    first, second = pw.hash("same password"), pw.hash("same password")
    assert first.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert first != second  # a random salt per hash: equal passwords do not show as equal
    assert pw.verify("same password", first) == (True, None)
    assert pw.verify("other password", first) == (False, None)


def test_a_bcrypt_hash_verifies_and_comes_back_as_argon2id(pw: Passwords) -> None:
    legacy = pw.hash_legacy_bcrypt("from 2015")
    assert legacy.startswith("$2b$04$") and pw.scheme(legacy) == "bcrypt"

    ok, upgraded = pw.verify("from 2015", legacy)

    assert ok and upgraded is not None and pw.scheme(upgraded) == "argon2id"
    assert pw.verify("from 2015", upgraded) == (True, None)
    assert pw.verify("wrong", legacy) == (False, None)  # no upgrade without the password


def test_raising_the_argon2_cost_rehashes_at_the_next_login(pw: Passwords) -> None:
    old = pw.hash("keep me")
    stronger = Passwords(Argon2Params(memory_kib=128, time_cost=2, parallelism=1), 4)

    ok, upgraded = stronger.verify("keep me", old)

    assert ok and upgraded is not None and "$m=128,t=2,p=1$" in upgraded
    assert stronger.verify("keep me", upgraded) == (True, None)


def test_bcrypt_reads_72_bytes_so_a_legacy_hash_is_checked_as_it_was_made(
    pw: Passwords,
) -> None:
    """Old bcrypt libraries cut passwords at 72 bytes; bcrypt 5 raises instead. A hash an
    old system made from a long password is checked on its first 72 bytes, then replaced
    by an argon2id hash of the whole password, after which only the whole one works."""
    long_password = "é" * 40  # 80 bytes in UTF-8: the limit is bytes, not characters
    # What bcrypt < 5 stored for it: a hash of the first 72 bytes, the rest ignored.
    legacy = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode()
    same_72_bytes = "é" * 36 + "xxxx"

    assert pw.verify(same_72_bytes, legacy)[0]  # what the old hash always let in
    ok, upgraded = pw.verify(long_password, legacy)
    assert ok and upgraded is not None

    assert pw.verify(long_password, upgraded) == (True, None)
    assert pw.verify(same_72_bytes, upgraded) == (False, None)  # now the whole password counts


def test_new_bcrypt_hashes_refuse_what_they_would_truncate(pw: Passwords) -> None:
    with pytest.raises(PasswordRejected, match="72 bytes"):
        pw.hash_legacy_bcrypt("x" * 73)
    assert pw.hash("x" * 500).startswith("$argon2id$")  # argon2id has no such limit


@pytest.mark.parametrize(("password", "why"), [("", "empty"), ("x" * 1025, "longer than")])
def test_empty_and_huge_passwords_are_refused(pw: Passwords, password: str, why: str) -> None:
    with pytest.raises(PasswordRejected, match=why):
        pw.hash(password)


def test_unknown_user_and_unknown_scheme_answer_false_after_the_same_work(
    pw: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | bytes] = []
    real = pw.argon2.verify

    def spy(password: str | bytes, hash: str | bytes) -> bool:
        calls.append(hash)
        return real(password, hash)

    monkeypatch.setattr(pw.argon2, "verify", spy)

    assert pw.verify("guess", None) == (False, None)  # no such user: the dummy hash
    assert pw.verify("guess", "$md5$not-a-hash-we-know") == (False, None)

    assert len(calls) == 2  # an argon2id verification ran both times
