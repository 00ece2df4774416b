"""Fixtures shared by the tests: service probes, unique names, and clean-up.

A service probe skips its tests with a hint when the service is missing, unless
LESSONS_REQUIRE_SERVICES names it (or says `all`): then the test fails, so CI can never go
green by skipping. Every key, stream, exchange and queue a test makes carries a random suffix
and is deleted afterwards; nothing is flushed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest
import redis
import redis.asyncio as aredis
from aio_pika.abc import AbstractConnection

from messaging.amqp.topology import OrderTopology
from messaging.productdb import ProductDB
from messaging.settings import mask_url


def _unavailable(service: str, hint: str) -> None:
    wanted = {s.strip() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    if service in wanted or "all" in wanted:
        pytest.fail(f"{hint} (required by LESSONS_REQUIRE_SERVICES)")
    pytest.skip(hint)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        _unavailable("redis", f"Redis not reachable at {url} - run: docker compose up -d redis")
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    url = os.environ.get("RABBITMQ_URL") or "amqp://guest:guest@localhost:5672/"
    import asyncio

    async def probe() -> None:
        connection = await aio_pika.connect(url, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception:  # any failure to connect: refused, auth, timeout
        _unavailable(
            "rabbitmq",
            f"RabbitMQ not reachable at {mask_url(url)} - run: docker compose up -d rabbitmq",
        )
    return url


@pytest.fixture
def namespace() -> str:
    """A prefix no other test (or test run) uses."""
    return f"test14-{secrets.token_hex(4)}"


@pytest.fixture
async def r(redis_url: str, namespace: str) -> AsyncIterator[aredis.Redis]:
    """An asyncio Redis client; every key under the test's namespace is deleted afterwards."""
    client = aredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{namespace}*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def db() -> Iterator[ProductDB]:
    """An in-memory product table with 10 products and no delay (tests count calls instead)."""
    database = ProductDB(":memory:", delay=0.0)
    database.seed(10)
    yield database
    database.close()


class Doomed(list[tuple[str, str]]):
    """("queue" | "exchange", name) pairs a test created; all are deleted at teardown."""

    def queue(self, name: str) -> str:
        self.append(("queue", name))
        return name

    def exchange(self, name: str) -> str:
        self.append(("exchange", name))
        return name


@pytest.fixture
async def amqp(rabbitmq_url: str, doomed: Doomed) -> AsyncIterator[AbstractConnection]:
    """A RabbitMQ connection; what the test declared through `doomed` is deleted afterwards
    (`doomed` is set up first, so it is torn down last, after this connection closed)."""
    connection = await aio_pika.connect(rabbitmq_url)
    yield connection
    await connection.close()


@pytest.fixture
async def doomed(rabbitmq_url: str) -> AsyncIterator[Doomed]:
    names = Doomed()
    yield names
    # A connection of its own: the test may have closed (or broken) the one it used.
    connection = await aio_pika.connect(rabbitmq_url)
    channel = await connection.channel()
    for kind, name in names:
        if kind == "queue":
            await channel.queue_delete(name)
        else:
            await channel.exchange_delete(name)
    await connection.close()


@pytest.fixture
async def topology(amqp: AbstractConnection, doomed: Doomed, namespace: str) -> OrderTopology:
    """The order topology under the test's namespace: short retry delay, 2 deliveries max."""
    topo = OrderTopology(namespace, retry_delay_ms=20, delivery_limit=2)
    doomed.extend(topo.names())
    channel = await amqp.channel()
    await topo.declare(channel)
    await channel.close()
    return topo
