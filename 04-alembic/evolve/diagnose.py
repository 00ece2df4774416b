"""Turn "could not use the database" into one line that says which fix applies.

main.py, bench.py and env.py (the plain `alembic` command) share it: a stopped server,
a refused login and a missing database each need a different fix, and a learner should
not be told to start a server that is already running.
"""

from __future__ import annotations

import re

from sqlalchemy import URL, Engine, text
from sqlalchemy.exc import DBAPIError

# The two ways PostgreSQL refuses a login. "role ... does not exist" must not be read as
# a missing *database*: both messages end in "does not exist".
LOGIN_REFUSED = re.compile(
    r'role "(?P<role>[^"]*)" does not exist'
    r'|password authentication failed for user "(?P<user>[^"]*)"'
)


def probe_sql(backend: str) -> str:
    # SQLite opens files lazily: connecting to a text file succeeds, the first read fails
    # ("file is not a database"). Reading the schema is what finds out.
    return "SELECT count(*) FROM sqlite_master" if backend == "sqlite" else "SELECT 1"


def probe(engine: Engine) -> str | None:
    """None if the database answered a real query, else the one line explaining why not."""
    try:
        with engine.connect() as connection:
            connection.execute(text(probe_sql(engine.dialect.name)))
    except DBAPIError as exc:
        return cannot_use(engine.url, str(exc.orig))
    return None


def cannot_use(url: URL, reason: str) -> str:
    """The one line for a database that could not be used: what was tried, and the fix."""
    shown = url.render_as_string(hide_password=True)
    first_line = reason.strip().splitlines()[0] if reason.strip() else "unknown error"
    if url.get_backend_name() == "sqlite":
        if "unable to open database file" in reason:
            return f"cannot open SQLite database at {shown} - check that its folder exists"
        return f"SQLite database at {shown} cannot be used: {first_line}"
    refused = LOGIN_REFUSED.search(reason)
    if refused:
        # The server is up and answered; starting it again would not help.
        user = refused.group("role") or refused.group("user")
        return (
            f"PostgreSQL at {shown} refused the login for user {user!r} ({refused.group(0)})"
            " - check the user and password in the URL"
        )
    if f'database "{url.database}" does not exist' in reason:
        # The server is up and the login worked; creating the database is the fix.
        return (
            f"PostgreSQL database {url.database!r} does not exist at {shown}"
            f" - run: docker compose exec postgres createdb -U postgres {url.database}"
        )
    return f"PostgreSQL not reachable at {shown} - run: docker compose up -d postgres"
