"""One copy of what main.py and bench.py share: the one-line argument errors, reading the
settings, and checking that Redis and RabbitMQ answer before anything starts."""

from __future__ import annotations

import argparse
import logging
from typing import NoReturn

import aio_pika
import redis.asyncio as aredis
from aiormq.exceptions import AMQPConnectionError, AMQPError, ProbableAuthenticationError
from aiormq.exceptions import AuthenticationError as AuthenticationFailed
from pydantic import ValidationError
from redis.exceptions import AuthenticationError

from messaging.settings import Settings, mask_url

START = "docker compose up -d redis rabbitmq"


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its whole usage before an error; this prints the error alone."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def load_settings() -> Settings | str:
    """The settings, or one line naming the bad variable (its value is not echoed: secrets)."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = str(first["loc"][0]).upper() if first["loc"] else ""
        # The service URLs keep the names every lesson shares; the rest carry MQ_.
        shared = ("REDIS_URL", "RABBITMQ_URL", "DATABASE_URL")
        why = first["msg"].removeprefix("Value error, ")
        if not loc:  # a rule about two settings together names them itself
            return f"bad settings: {why}"
        return f"bad setting {loc if loc in shared else f'MQ_{loc}'}: {why}"


async def versions(settings: Settings) -> tuple[str, str] | str:
    """(Redis version, RabbitMQ version), or one line naming the service that did not answer."""
    client = aredis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
    try:
        redis_version = str((await client.info("server"))["redis_version"])
    except AuthenticationError:
        return f"Redis at {mask_url(settings.redis_url)} refused the login: check REDIS_URL"
    except (aredis.RedisError, OSError):
        return f"Redis not reachable at {mask_url(settings.redis_url)} - run: {START}"
    finally:
        await client.aclose()
    # aiormq logs the failed connect with its own traceback-ish line; one line is ours to print.
    quiet = logging.getLogger("aiormq")
    level, quiet.level = quiet.level, logging.CRITICAL
    url = mask_url(settings.rabbitmq_url)
    try:
        connection = await aio_pika.connect(settings.rabbitmq_url, timeout=5)
    except (ProbableAuthenticationError, AuthenticationFailed):
        return f"RabbitMQ at {url} refused the login: check the user and password in RABBITMQ_URL"
    except (AMQPConnectionError, OSError, TimeoutError):
        return f"RabbitMQ not reachable at {url} - run: {START}"
    except AMQPError:  # the handshake failed after the login, e.g. an unknown vhost
        return f"RabbitMQ at {url} closed the connection: does the vhost in RABBITMQ_URL exist?"
    finally:
        quiet.setLevel(level)
    try:
        props = connection.transport.connection.server_properties  # type: ignore[union-attr]
        rabbit_version = props.get("version", "?")
        if isinstance(rabbit_version, bytes):
            rabbit_version = rabbit_version.decode()
    finally:
        await connection.close()
    return redis_version, str(rabbit_version)
