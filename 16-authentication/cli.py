"""What main.py and bench.py share: the one-line argument errors and the service checks."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

import redis
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from auth.db import make_engine
from auth.settings import Settings, SettingsError, load_settings, safe_url


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its whole usage before an error; one line says more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def fail(message: str, code: int) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(f"bad setting: {exc}", 2)


def services_or_exit(settings: Settings) -> None:
    """One line naming the service, the URL tried (password masked) and the command that
    starts it, instead of a traceback at the first request."""
    database_or_exit(settings)
    redis_or_exit(settings)


def database_or_exit(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        where = safe_url(settings.database_url)
        hint = " - run: docker compose up -d postgres" if "postgresql" in where else ""
        fail(f"database not reachable at {where} ({reason}){hint}", 1)
    finally:
        engine.dispose()


def redis_or_exit(settings: Settings) -> None:
    if settings.redis_url:
        try:
            with redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3) as client:
                client.ping()
        except (redis.RedisError, OSError) as exc:
            fail(
                f"Redis not reachable at {safe_url(settings.redis_url)} ({type(exc).__name__})"
                " - run: docker compose up -d redis",
                1,
            )
