"""Refresh tokens: opaque, stored as hashes, rotated on every use, and a replay revokes the
whole family (OAuth 2.0 Security BCP, RFC 9700 section 4.14).

A refresh token is 256 random bits, not a JWT: only this server ever reads it, and it looks
it up anyway, so there is nothing to gain from making it self-contained. Its SHA-256 is the
primary key. (A slow password hash would add nothing: 256 random bits cannot be guessed,
and a lookup needs a deterministic hash.)

Rotation is one conditional UPDATE, ``... SET used_at = now WHERE token_hash = ? AND used_at
IS NULL``: of two requests presenting the same token at the same moment, the database lets
exactly one change the row. The loser sees a used token, which is what a replay looks like,
and revokes the family - the thief's copy and the victim's both stop working.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tokens.db import Family, RefreshToken


class RefreshRefused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Grant:
    """What a successful login or refresh hands out (the access token is signed elsewhere)."""

    refresh_token: str
    family_id: str
    user_id: str
    scopes: list[str]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshStore:
    def __init__(self, sessions: sessionmaker[Session], ttl_s: int) -> None:
        self.sessions, self.ttl_s = sessions, ttl_s

    def start(self, user_id: str, scopes: list[str], now: int | None = None) -> Grant:
        """A new family with its first token: a login."""
        now = int(time.time()) if now is None else now
        family_id = secrets.token_hex(16)
        with self.sessions.begin() as s:
            s.add(
                Family(
                    id=family_id,
                    user_id=user_id,
                    scope=" ".join(scopes),
                    created_at=now,
                    rotated_at=now,
                )
            )
            s.flush()  # the family row first: the token's foreign key points at it
            token = self._new_token(s, family_id, now)
        return Grant(token, family_id, user_id, scopes)

    def rotate(self, presented: str, now: int | None = None) -> Grant:
        """Spend ``presented`` and return its successor, or refuse with a reason."""
        now = int(time.time()) if now is None else now
        h = token_hash(presented)
        refused: RefreshRefused | None = None
        with self.sessions.begin() as s:
            # 1. Claim the token. Atomic on both databases: PostgreSQL makes a concurrent
            #    UPDATE of the same row wait for this transaction and then re-checks the WHERE
            #    (used_at is no longer NULL, 0 rows); SQLite runs one writer at a time.
            family_id = s.execute(
                update(RefreshToken)
                .where(RefreshToken.token_hash == h)
                .where(RefreshToken.used_at.is_(None))
                .where(RefreshToken.expires_at > now)
                .values(used_at=now)
                .returning(RefreshToken.family_id)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if family_id is None:
                refused = self._why_not(s, h, now)
            else:
                # 2. The family must still be live. This UPDATE also locks the family row, so
                #    a concurrent revocation either happens before it (0 rows: refused) or
                #    waits until the new token below is committed - and then revokes it too.
                live = s.execute(
                    update(Family)
                    .where(Family.id == family_id)
                    .where(Family.revoked_at.is_(None))
                    .values(rotated_at=now)
                    .returning(Family.user_id, Family.scope)
                    .execution_options(synchronize_session=False)
                ).one_or_none()
                if live is None:
                    # Raised inside the block: the transaction rolls back and the token stays
                    # unspent; the family's state already says everything.
                    raise RefreshRefused("revoked", "this session was ended")
                token = self._new_token(s, family_id, now)
                return Grant(token, family_id, live.user_id, live.scope.split())
        # Outside the block: a reuse's revocation above has been committed by now.
        assert refused is not None
        raise refused

    def _why_not(self, s: Session, h: str, now: int) -> RefreshRefused:
        row = s.get(RefreshToken, h)
        if row is None:
            return RefreshRefused("unknown", "no such refresh token")
        if row.used_at is not None:
            # A spent token came back: someone kept a copy. We cannot tell the thief from the
            # victim, so the whole family goes, and both must log in again.
            self._revoke(s, [row.family_id], "reuse", now)
            return RefreshRefused("reused", "refresh token used twice: session revoked")
        return RefreshRefused("expired", "refresh token expired")

    def revoke_family(self, family_id: str, reason: str = "logout") -> None:
        with self.sessions.begin() as s:
            self._revoke(s, [family_id], reason, int(time.time()))

    def revoke_user(self, user_id: str, reason: str = "logout_everywhere") -> int:
        with self.sessions.begin() as s:
            ids = s.scalars(
                select(Family.id).where(Family.user_id == user_id, Family.revoked_at.is_(None))
            ).all()
            self._revoke(s, list(ids), reason, int(time.time()))
        return len(ids)

    def family(self, family_id: str) -> Family | None:
        with self.sessions() as s:
            return s.get(Family, family_id)

    @staticmethod
    def _revoke(s: Session, family_ids: list[str], reason: str, now: int) -> None:
        if family_ids:
            s.execute(
                update(Family)
                .where(Family.id.in_(family_ids), Family.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=reason)
                .execution_options(synchronize_session=False)
            )

    def _new_token(self, s: Session, family_id: str, now: int) -> str:
        token = secrets.token_urlsafe(32)
        s.add(
            RefreshToken(
                token_hash=token_hash(token),
                family_id=family_id,
                issued_at=now,
                expires_at=now + self.ttl_s,
            )
        )
        return token
