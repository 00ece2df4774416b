"""Users, roles and permissions in the database, and the password check that upgrades hashes.

Permissions are what the code asks for (``require("orders:write")``); roles are how people
get them. Changing what a role may do is a database change, not a deploy.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from auth.db import Permission, Role, User
from auth.passwords import Passwords

# The roles this lesson ships. "orders:any" is the object-level power: act on orders that
# belong to someone else. Owners need no permission of that kind for their own orders.
ROLES: dict[str, tuple[str, ...]] = {
    "admin": ("orders:read", "orders:write", "orders:any", "users:read"),
    "clerk": ("orders:read", "orders:write"),
    "viewer": ("orders:read",),
}


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    roles: frozenset[str]
    permissions: frozenset[str]
    mfa: bool

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class PasswordCheck:
    account: Account | None  # None: unknown user or wrong password - callers never learn which
    rehashed_from: str | None = None  # the scheme replaced by a fresh argon2id hash


class UserExists(ValueError):
    pass


def _account(user: User) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        roles=frozenset(r.name for r in user.roles),
        permissions=frozenset(p.name for r in user.roles for p in r.permissions),
        mfa=user.totp_enabled,
    )


def _load(db: Session, **where: object) -> User | None:
    query = select(User).filter_by(**where)
    query = query.options(selectinload(User.roles).selectinload(Role.permissions))
    return db.scalars(query).one_or_none()


class Users:
    def __init__(self, sessions: sessionmaker[Session], passwords: Passwords) -> None:
        self.sessions, self.passwords = sessions, passwords

    def ensure_roles(self, roles: dict[str, tuple[str, ...]] = ROLES) -> None:
        """Create the roles and permissions that are missing (idempotent: run at start-up)."""
        with self.sessions.begin() as db:
            perms = {p.name: p for p in db.scalars(select(Permission))}
            for name in {p for granted in roles.values() for p in granted} - perms.keys():
                perms[name] = Permission(name=name)
                db.add(perms[name])
            existing = {r.name: r for r in db.scalars(select(Role))}
            for name, granted in roles.items():
                role = existing.get(name) or Role(name=name)
                role.permissions = [perms[p] for p in granted]
                db.add(role)

    def create(
        self, username: str, password: str, roles: list[str], *, legacy_bcrypt: bool = False
    ) -> Account:
        hashed = (
            self.passwords.hash_legacy_bcrypt(password)
            if legacy_bcrypt
            else self.passwords.hash(password)
        )
        with self.sessions.begin() as db:
            if _load(db, username=username) is not None:
                raise UserExists(username)
            found = list(db.scalars(select(Role).where(Role.name.in_(roles))))
            if len(found) != len(set(roles)):
                raise ValueError(f"unknown role in {roles}")
            user = User(username=username, password_hash=hashed, roles=found)
            db.add(user)
            db.flush()
            return _account(_load(db, id=user.id))  # type: ignore[arg-type]

    def authenticate(self, username: str, password: str) -> PasswordCheck:
        """Check a password; on success, store a new hash if the old one is outdated."""
        with self.sessions() as db:
            user = _load(db, username=username)
            stored = user.password_hash if user else None
        ok, new_hash = self.passwords.verify(password, stored)
        if not ok or user is None:
            return PasswordCheck(None)
        replaced = None
        if new_hash is not None:
            replaced = self.passwords.scheme(stored or "")
            with self.sessions.begin() as db:
                # Only if nobody changed the password meanwhile (compare-and-set).
                row = db.get(User, user.id)
                if row is not None and row.password_hash == stored:
                    row.password_hash = new_hash
        return PasswordCheck(_account(user), replaced)

    def get(self, user_id: int) -> Account | None:
        with self.sessions() as db:
            user = _load(db, id=user_id)
            return _account(user) if user else None

    def by_name(self, username: str) -> Account | None:
        with self.sessions() as db:
            user = _load(db, username=username)
            return _account(user) if user else None

    def stored_hash(self, username: str) -> str | None:
        with self.sessions() as db:
            user = _load(db, username=username)
            return user.password_hash if user else None

    def all(self) -> list[Account]:
        with self.sessions() as db:
            query = select(User).order_by(User.id)
            query = query.options(selectinload(User.roles).selectinload(Role.permissions))
            return [_account(u) for u in db.scalars(query)]

    def totp_secret(self, user_id: int) -> str | None:
        with self.sessions() as db:
            user = db.get(User, user_id)
            return user.totp_secret if user else None
