"""The demo's users. Their passwords are published on purpose (the serve command prints
them); ada's TOTP secret too, so `python main.py totp --secret-b32 ...` shows her code."""

from __future__ import annotations

from sqlalchemy import update

from auth.db import User
from auth.users import UserExists, Users

ADA_TOTP_SECRET = "JSVHQH4QJA2AOZVPFA7GZ3FQXHH6SAWS"
# name -> (password, roles, stored as a legacy bcrypt hash?)
PEOPLE: dict[str, tuple[str, list[str], bool]] = {
    "ada": ("correct horse battery staple", ["admin"], False),
    "bob": ("bob likes long passphrases", ["clerk"], False),
    "cyd": ("cyd only reads things", ["viewer"], False),
    "dee": ("dee signed up in 2015", ["clerk"], True),
}


def add_people(users: Users) -> int:
    """Create the demo users that are missing; returns how many were created."""
    created = 0
    for name, (password, roles, legacy) in PEOPLE.items():
        try:
            account = users.create(name, password, roles, legacy_bcrypt=legacy)
        except UserExists:
            continue
        created += 1
        if name == "ada":  # enrolled already, with the published secret
            with users.sessions.begin() as db:
                db.execute(
                    update(User)
                    .where(User.id == account.id)
                    .values(totp_secret=ADA_TOTP_SECRET, totp_enabled=True)
                )
    return created
