"""Fixtures: service probes, a private namespace per session, and real worker processes.

Behaviour tests send real messages through RabbitMQ to worker subprocesses and read results
from Redis: never task_always_eager, which would run the task in the test's own process and
skip everything this lesson is about (serialisation, routing, acks, redelivery).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from kombu import Connection

from tools.procs import READY, ChildProcess, start_worker, stop_all
from uploads.celery_app import make_celery
from uploads.settings import Settings, load_settings, safe_url

RABBITMQ = os.environ.get("RABBITMQ_URL") or "amqp://guest:guest@localhost:5672/"
REDIS = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"


def service_required(marker: str) -> bool:
    """LESSONS_REQUIRE_SERVICES (comma list or 'all') turns a skip into a failure."""
    wanted = {s.strip().lower() for s in os.environ.get("LESSONS_REQUIRE_SERVICES", "").split(",")}
    return "all" in wanted or marker in wanted


def unavailable(marker: str, message: str) -> None:
    if service_required(marker):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    try:
        with Connection(RABBITMQ, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        unavailable("rabbitmq", f"RabbitMQ not reachable at {safe_url(RABBITMQ)} - run: "
                                "docker compose up -d rabbitmq")  # fmt: skip
    return RABBITMQ


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except redis.RedisError:
        unavailable("redis", f"Redis not reachable at {safe_url(REDIS)} - run: "
                             "docker compose up -d redis")  # fmt: skip
    return REDIS


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until condition() is truthy; fail with a clear message instead of hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.03)
    raise AssertionError(f"condition not met within {timeout} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- one namespace and one pair of workers per session, on RabbitMQ + Redis ------------------


@pytest.fixture(scope="session")
def live_env(rabbitmq_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[str, str]]:  # fmt: skip
    """The environment every process of this session shares: unique queues, own database."""
    prefix = f"test10.{secrets.token_hex(4)}."
    home = tmp_path_factory.mktemp("live")
    env = {
        "RABBITMQ_URL": rabbitmq_url, "REDIS_URL": redis_url, "BROKER": "rabbitmq",
        "DATABASE_URL": f"sqlite:///{home / 'uploads.db'}", "UPLOAD_DIR": str(home / "files"),
        "QUEUE_PREFIX": prefix, "RETRY_JITTER": "false", "TASK_SOFT_TIME_LIMIT": "5",
        "TASK_TIME_LIMIT": "10",
    }  # fmt: skip
    yield env
    # Our queues only, deleted (never purged: a queue name is all we own), and our result keys.
    with Connection(rabbitmq_url) as conn:
        channel = conn.default_channel
        for kind in ("io", "cpu", "kill"):
            # Celery declares an exchange of the same name for each of our queues: both go.
            for delete in ("queue_delete", "exchange_delete"):
                try:
                    getattr(channel, delete)(f"{prefix}{kind}")
                except Exception:
                    channel = conn.channel()  # a missing one closes the channel on RabbitMQ
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def live_settings(live_env: dict[str, str]) -> Settings:
    return load_settings(**{name.lower(): value for name, value in live_env.items()})


@pytest.fixture(scope="session")
def live_app(live_settings: Settings) -> Celery:
    return make_celery(live_settings)


@pytest.fixture(scope="session")
def workers(
    live_env: dict[str, str], live_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ChildProcess]]:
    """An `io` worker (4 threads) and a `cpu` worker (prefork), each on its own queue.

    Not the solo pool for `io`: with prefetch 1 and acks late it waits out a 2 s poll between
    bursts (docs/notes.md), which made the canvas tests ten times slower.
    """
    logs = tmp_path_factory.mktemp("logs")
    # Node names unique to the session: a broadcast (inspect, Flower) reaches every worker
    # on the broker, other sessions' too.
    tag = live_settings.queue_prefix.split(".")[1]
    started = {
        "io": start_worker(f"io-{tag}", [live_settings.queue("io")], live_env, logs / "io.log",
                           pool="threads", concurrency=4, extra=("--include", "tests.slow_tasks")),
        "cpu": start_worker(f"cpu-{tag}", [live_settings.queue("cpu")], live_env,
                            logs / "cpu.log", pool="prefork", concurrency=1,
                            extra=("--include", "tests.slow_tasks")),
    }  # fmt: skip
    try:
        for worker in started.values():
            worker.wait_for(READY)
        yield started
    finally:
        stop_all(list(started.values()))


@pytest.fixture
def tmp_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Embedded settings in a temporary folder (no service): for the unit and API tier."""
    for name in ("RABBITMQ_URL", "REDIS_URL"):
        monkeypatch.setenv(name, "")
    return load_settings(database_url=f"sqlite:///{tmp_path / 'uploads.db'}",
                         upload_dir=tmp_path / "files")  # fmt: skip
