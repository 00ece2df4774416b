"""The demo's user directory: two users, their password hashes and the scopes they may hold.

Passwords are checked with pwdlib (argon2id), which compares in constant time. Password
storage itself - parameters, rehash on login, migrations from old hashes - is lesson 16's
subject; here it only has to be correct.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

SCOPES = {
    "items:read": "read items",
    "items:write": "create items",
}


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    scopes: frozenset[str]


# Published demo credentials: `python main.py serve` prints them.
DEMO_PASSWORDS = {"ada": "correct horse battery staple", "bob": "hunter2 but longer"}
DEMO_SCOPES = {"ada": frozenset(SCOPES), "bob": frozenset({"items:read"})}


@functools.cache
def _hasher() -> PasswordHash:
    # argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): a login costs ~0.1 s of CPU
    # here instead of pwdlib's heavier default. Lesson 16 chooses these numbers properly.
    return PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19_456, parallelism=1),))


class Users:
    def __init__(self, users: dict[str, User]) -> None:
        self._users = users
        # Checked when the name is unknown, so that "no such user" takes as long as "wrong
        # password" and the answer time does not reveal which names exist.
        self._dummy = _hasher().hash("not a password of anyone")

    @classmethod
    @functools.cache
    def demo(cls) -> Users:
        # Hashing is slow on purpose (argon2id); the demo users are hashed once per process.
        return cls(
            {
                name: User(name, _hasher().hash(pw), DEMO_SCOPES[name])
                for name, pw in DEMO_PASSWORDS.items()
            }
        )

    def authenticate(self, name: str, password: str) -> User | None:
        user = self._users.get(name)
        ok = _hasher().verify(password, user.password_hash if user else self._dummy)
        return user if ok and user is not None else None

    def get(self, name: str) -> User | None:
        return self._users.get(name)
