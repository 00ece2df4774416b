"""The second factor, stored: enrolment, the TOTP check with replay protection, and
single-use recovery codes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from auth.db import RecoveryCode, User, rowcount
from auth.totp import matching_step, new_secret

RECOVERY_CODES = 10


def recovery_hash(code: str) -> str:
    """SHA-256 is enough here, unlike for passwords: a recovery code is 80 random bits, so
    even billions of guesses per second against a leaked table find nothing. A password is
    chosen by a person, and a fast hash lets a guesser walk through every likely one."""
    normalized = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalized.encode()).hexdigest()


def new_recovery_code() -> str:
    raw = secrets.token_hex(10).upper()  # 80 bits
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


class Mfa:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def start_enrolment(self, user_id: int) -> str:
        """A fresh secret, stored but not enabled until a code from it is confirmed."""
        secret = new_secret()
        with self.sessions.begin() as db:
            user = db.get(User, user_id)
            if user is None or user.totp_enabled:
                raise ValueError("no such user, or TOTP is already enabled")
            user.totp_secret, user.totp_last_step = secret, 0
        return secret

    def confirm(self, user_id: int, code: str, now: float) -> list[str] | None:
        """Enable TOTP once the user proves the app shows the right codes; the recovery
        codes are returned in plain text this once and stored only as hashes."""
        if not self.verify(user_id, code, now, enrolling=True):
            return None
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        with self.sessions.begin() as db:
            db.execute(update(User).where(User.id == user_id).values(totp_enabled=True))
            db.add_all(RecoveryCode(code_hash=recovery_hash(c), user_id=user_id) for c in codes)
        return codes

    def verify(self, user_id: int, code: str, now: float, *, enrolling: bool = False) -> bool:
        with self.sessions() as db:
            user = db.get(User, user_id)
            if user is None or user.totp_secret is None or user.totp_enabled == enrolling:
                return False
            secret = user.totp_secret
        step = matching_step(secret, code, now)
        if step is None:
            return False
        with self.sessions.begin() as db:
            # Compare-and-set: of two requests with the same code, only one moves the step.
            moved = db.execute(
                update(User)
                .where(User.id == user_id, User.totp_last_step < step)
                .values(totp_last_step=step)
            )
            return rowcount(moved) == 1

    def use_recovery_code(self, user_id: int, code: str, now: float) -> bool:
        with self.sessions.begin() as db:
            spent = db.execute(
                update(RecoveryCode)
                .where(
                    RecoveryCode.code_hash == recovery_hash(code),
                    RecoveryCode.user_id == user_id,
                    RecoveryCode.used_at.is_(None),
                )
                .values(used_at=now)
            )
            return rowcount(spent) == 1

    def recovery_codes_left(self, user_id: int) -> int:
        with self.sessions() as db:
            query = select(RecoveryCode).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
            return len(list(db.scalars(query)))
