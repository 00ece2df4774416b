"""The OAuth2 authorization code flow with PKCE (RFC 6749 section 4.1, RFC 7636).

A client that cannot keep a secret (a browser app, a mobile or CLI app) proves at /token that
it is the same client that started the flow at /authorize: it sent
``code_challenge = BASE64URL(SHA256(code_verifier))`` first and shows ``code_verifier`` last.
Someone who steals the code on the way (a redirect logged, a malicious app on the same custom
scheme) does not have the verifier.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from auth.db import AuthCode, rowcount

# RFC 7636 4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~]; the S256 challenge is 43.
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class CodeRefused(Exception):
    """An exchange that fails: every reason is ``invalid_grant`` to the client (RFC 6749
    5.2); ``reason`` says which, for the logs, the tests and the learner."""

    def __init__(self, reason: str, token_to_revoke: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.token_to_revoke = reason, token_to_revoke


@dataclass(frozen=True)
class Redeemed:
    user_id: int
    code_hash: str


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_verifier() -> str:
    return secrets.token_urlsafe(48)  # 64 characters, inside the 43-128 of RFC 7636


def registered(clients: dict[str, list[str]], client_id: str, redirect_uri: str) -> bool:
    """Exact string match against the client's registered URIs: no prefix, no pattern, no
    "same host". A looser check is how open redirects steal codes
    (https://app.example/callback/../../evil or https://app.example.evil.test)."""
    return redirect_uri in clients.get(client_id, [])


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class Codes:
    def __init__(self, sessions: sessionmaker[Session], ttl_s: int) -> None:
        self.sessions, self.ttl_s = sessions, ttl_s

    def issue(
        self, client_id: str, redirect_uri: str, user_id: int, challenge: str, now: float
    ) -> str:
        code = secrets.token_urlsafe(32)
        with self.sessions.begin() as db:
            db.add(AuthCode(code_hash=_hash(code), client_id=client_id,
                            redirect_uri=redirect_uri, user_id=user_id,
                            code_challenge=challenge, expires_at=now + self.ttl_s))  # fmt: skip
        return code

    def redeem(
        self, code: str, client_id: str, redirect_uri: str, verifier: str | None, now: float
    ) -> Redeemed:
        hashed = _hash(code)
        with self.sessions.begin() as db:
            row = db.get(AuthCode, hashed)
            if row is None:
                raise CodeRefused("unknown_code")
            if row.used_at is not None:
                # RFC 6749 4.1.2: a code used twice is a sign it was stolen - the token the
                # first use issued is revoked too.
                raise CodeRefused("code_reused", row.token_hash)
            # Spend it first, whatever follows: a code gets one exchange attempt, not one
            # success (a wrong verifier guessed again and again gets nothing).
            spent = db.execute(
                update(AuthCode)
                .where(AuthCode.code_hash == hashed, AuthCode.used_at.is_(None))
                .values(used_at=now)
            )
            if rowcount(spent) != 1:  # another request spent it between our read and write
                raise CodeRefused("code_reused")
            result, reason = Redeemed(row.user_id, hashed), None
            if row.expires_at <= now:
                reason = "code_expired"
            elif row.client_id != client_id:
                reason = "wrong_client"
            elif row.redirect_uri != redirect_uri:
                reason = "redirect_uri_mismatch"
            elif not verifier:
                # PKCE downgrade: the code was issued for a challenge, so a verifier is owed.
                reason = "verifier_missing"
            elif not VERIFIER.match(verifier) or not hmac.compare_digest(
                s256(verifier), row.code_challenge
            ):
                reason = "verifier_mismatch"
        if reason:
            raise CodeRefused(reason)
        return result

    def attach_token(self, code_hash: str, token_hash: str) -> None:
        with self.sessions.begin() as db:
            db.execute(
                update(AuthCode)
                .where(AuthCode.code_hash == code_hash)
                .values(token_hash=token_hash)
            )
