"""Password storage: argon2id for every new hash, bcrypt understood for old ones.

``pwdlib.PasswordHash`` tries its hashers in order to *identify* a stored hash, and hashes
new passwords with the first one. ``verify_and_update`` returns a new hash whenever the stored
one was made by another scheme (bcrypt) or with other parameters (argon2id at a lower cost):
the caller stores it, so hashes upgrade themselves at each user's next good login.
"""

from __future__ import annotations

from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

BCRYPT_MAX_BYTES = 72


class PasswordRejected(ValueError):
    """A password this system will not hash (too long for its scheme, or empty)."""


class LegacyBcrypt(BcryptHasher):
    """bcrypt reads only the first 72 bytes of a password. Old libraries cut the rest off
    silently, so a hash made by them matches any password with the same first 72 bytes;
    bcrypt 5 refuses such input with ValueError instead.

    Verifying an old hash must therefore do what made it: compare the first 72 bytes. The
    login that succeeds then stores an argon2id hash of the *whole* password, which has no
    such limit. New bcrypt hashes of longer passwords are refused rather than truncated."""

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if len(_bytes(password)) > BCRYPT_MAX_BYTES:
            raise PasswordRejected(f"bcrypt cannot hash more than {BCRYPT_MAX_BYTES} bytes")
        return super().hash(password, salt=salt)

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        return super().verify(_bytes(password)[:BCRYPT_MAX_BYTES], hash)


@dataclass(frozen=True)
class Argon2Params:
    memory_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1


class Passwords:
    def __init__(
        self, argon2: Argon2Params, bcrypt_rounds: int = 12, max_bytes: int = 1024
    ) -> None:
        self.params, self.max_bytes = argon2, max_bytes
        self.argon2 = Argon2Hasher(
            time_cost=argon2.time_cost,
            memory_cost=argon2.memory_kib,
            parallelism=argon2.parallelism,
        )
        self.bcrypt = LegacyBcrypt(rounds=bcrypt_rounds)
        self._hash = PasswordHash((self.argon2, self.bcrypt))
        # Verified when a login names no existing user, so that "no such user" costs the
        # same argon2id work as "wrong password" and the answer time gives nothing away.
        self._dummy = self.argon2.hash("dummy password of nobody")

    def check_length(self, password: str) -> None:
        size = len(password.encode())
        if size == 0:
            raise PasswordRejected("the password is empty")
        if size > self.max_bytes:
            raise PasswordRejected(f"the password is longer than {self.max_bytes} bytes")

    def hash(self, password: str) -> str:
        self.check_length(password)
        return self._hash.hash(password)

    def hash_legacy_bcrypt(self, password: str) -> str:
        """What an older system stored; used to show and test the upgrade path."""
        self.check_length(password)
        return self.bcrypt.hash(password)

    def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """(matches, new hash to store or None). ``stored`` None means "no such user": the
        dummy hash is checked so the time taken is the same, and the answer is False."""
        if stored is None:
            self._hash.verify(password, self._dummy)
            return False, None
        try:
            return self._hash.verify_and_update(password, stored)
        except UnknownHashError:
            # A hash of a scheme nobody here knows: no login, and no crash either.
            self._hash.verify(password, self._dummy)
            return False, None

    def scheme(self, stored: str) -> str:
        if self.argon2.identify(stored):
            return "argon2id"
        return "bcrypt" if self.bcrypt.identify(stored) else "unknown"


def _bytes(password: str | bytes) -> bytes:
    return password.encode() if isinstance(password, str) else password
