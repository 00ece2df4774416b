"""What main.py and bench.py share: the one-line argument errors and the service check."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from scheduling.settings import Settings, SettingsError, load_settings, safe_url


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its whole usage before an error; one line says more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def fail(message: str, code: int) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}", 2)


def reachable_or_exit(engine: Engine) -> None:
    """One line naming the database and the command that starts it, instead of a traceback."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        where = safe_url(engine.url)
        if "FATAL:" in str(exc.orig):
            # The server answered and said no (no such database or role, a wrong password):
            # it is running, and starting it again would not help. A setting to fix: exit 2.
            said = str(exc.orig).split("FATAL:", 1)[1].strip().splitlines()[0]
            fail(f"PostgreSQL at {where} refused the connection: {said} - fix DATABASE_URL", 2)
        hint = " - run: docker compose up -d postgres" if "postgresql" in where else ""
        fail(f"database not reachable at {where} ({reason}){hint}", 1)
