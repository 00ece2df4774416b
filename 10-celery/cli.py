"""What main.py and bench.py share: one-line argument errors and the service checks."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from uploads.settings import Settings, SettingsError, load_settings, safe_url


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
    """One line naming the service, the URL tried and the command that starts it; no traceback."""
    from kombu import Connection

    if not settings.embedded:
        service = "redis" if settings.broker == "redis" else "rabbitmq"
        try:
            with Connection(settings.broker_url, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            reason = reason.replace(settings.broker_url, safe_url(settings.broker_url))
            name = "Redis" if service == "redis" else "RabbitMQ"
            fail(f"{name} not reachable at {safe_url(settings.broker_url)} ({reason}) - run: "
                 f"docker compose up -d {service}", 1)  # fmt: skip
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            fail(f"Redis not reachable at {safe_url(settings.redis_url)} "
                 f"({type(exc).__name__}) - run: docker compose up -d redis", 1)  # fmt: skip
