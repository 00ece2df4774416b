"""The command line: the demo runs end to end and cleans up; publish and consume round-trip;
bad arguments, bad settings and missing services each get one line."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import aio_pika
import pytest
import redis
from aiormq.exceptions import ChannelNotFoundEntity

LESSON = Path(__file__).resolve().parents[1]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # No .env from the learner's folder and no MQ_* from the shell: the test sets what it needs.
    base = {k: v for k, v in os.environ.items() if not k.startswith("MQ_")}
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=LESSON, capture_output=True, text=True,
        timeout=120, env={**base, "DATABASE_URL": "sqlite://", **env},
    )  # fmt: skip


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.redis
@pytest.mark.rabbitmq
def test_the_demo_runs_the_whole_scenario_and_leaves_nothing_behind(
    redis_url, rabbitmq_url, namespace
) -> None:
    result = run("demo", REDIS_URL=redis_url, RABBITMQ_URL=rabbitmq_url,
                 MQ_NAMESPACE=namespace, MQ_RETRY_DELAY_MS="50")  # fmt: skip

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "100 concurrent misses on product 5 without single-flight: 100 database call" in out
    assert "100 concurrent misses on product 6 with single-flight: 1 database call" in out
    assert "the next lookup sees 250 cents, version 2" in out
    assert "the next lookup sees 350 cents with 0 database reads" in out
    assert "returned, no queue bound for 'invoice.created'" in out
    assert "parked: order 3 after 3 attempts (2 retries 50 ms apart)" in out
    assert "x-death: rejected by" in out
    assert "XAUTOCLAIM took 3 entries" in out
    assert "pending now 0; ledger has 6 entries for 6 events" in out
    assert "published before anyone subscribed: 0 heard it" in out
    assert "heard the other 5: 2 created, 2 paid, 1 shipped" in out
    assert out.rstrip().endswith("demo finished")
    assert "parked" in result.stderr  # the parked message is also logged with its id
    client = redis.Redis.from_url(redis_url)
    assert list(client.scan_iter(match=f"{namespace}*")) == []  # its keys are gone
    client.close()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """main.main in this process (no interpreter start-up per case): the environment is the
    test's own, no .env file is read; returns (exit code, stdout, stderr)."""
    import main
    from messaging.settings import Settings

    monkeypatch.setitem(Settings.model_config, "env_file", None)
    for name in [k for k in os.environ if k.startswith("MQ_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")

    def invoke(*args: str, **env: str) -> tuple[int, str, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        try:
            code = main.main(list(args))
        except SystemExit as exc:  # argparse exits on its own
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.parametrize("via", ["amqp", "stream"])
def test_publish_then_consume_by_hand(
    cli, redis_url, rabbitmq_url, namespace, doomed, r, via
) -> None:
    from messaging.amqp.topology import OrderTopology

    doomed.extend(OrderTopology(namespace, 1, 1).names())  # publish declares them
    env = {"REDIS_URL": redis_url, "RABBITMQ_URL": rabbitmq_url, "MQ_NAMESPACE": namespace}

    published = cli("publish", "paid", "--order", "42", "--product", "7", "--via", via, **env)
    consumed = cli("consume", "shipping", "--via", via, "--count", "1", "--wait", "10", **env)

    assert published[0] == 0 and "order.paid" in published[1], published[2]
    assert consumed[0] == 0, consumed[2]
    assert '"order_id":42' in consumed[1] and "1 event(s) consumed" in consumed[1]

    cleaned = cli("clean", **env)
    assert cleaned[0] == 0 and "deleted 11 queues and exchanges" in cleaned[1]
    client = redis.Redis.from_url(redis_url)
    assert client.exists(f"{namespace}:orders") == 0
    client.close()
    assert not asyncio.run(queue_exists(rabbitmq_url, f"{namespace}.shipping"))


async def queue_exists(url: str, name: str) -> bool:
    connection = await aio_pika.connect(url)
    try:
        await (await connection.channel()).declare_queue(name, passive=True)
        return True
    except ChannelNotFoundEntity:
        return False
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "invalid choice: 'nope'"),
        (["publish", "refunded", "--order", "1", "--product", "1"], "invalid choice: 'refunded'"),
        (["publish", "paid", "--order", "x", "--product", "1"], "'x' is not a whole number"),
        (["publish", "paid", "--order", "1"], "the following arguments are required: --product"),
        (["consume", "billing", "--count", "0"], "0 is not between 1 and 100000"),
        (["consume", "billing", "--wait", "-1"], "-1 is not between 0 and 3600 seconds"),
        (["consume", "billing", "--via", "kafka"], "invalid choice: 'kafka'"),
        (["--fast"], "unrecognized arguments: --fast"),
    ],
)
def test_a_bad_argument_gets_one_line_and_exit_2(cli, args: list[str], message: str) -> None:
    code, _, err = cli(*args)

    assert code == 2
    assert err.count("\n") == 1 and message in err, err


def test_bench_refuses_a_bad_argument_in_one_line() -> None:
    result = subprocess.run([sys.executable, "bench.py", "--fast"], cwd=LESSON,
                            capture_output=True, text=True, timeout=120)  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == "bench.py: error: unrecognized arguments: --fast\n"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_URL": "http://localhost:6379"}, "bad setting REDIS_URL: must start with redis://"),
        ({"RABBITMQ_URL": "amqp://u:s3cret@h:port/"}, "bad setting RABBITMQ_URL: the port is"),
        ({"DATABASE_URL": "postgresql://u:s3cret@h/db"}, "bad setting DATABASE_URL: this lesson"),
        ({"MQ_PREFETCH": "0"}, "bad setting MQ_PREFETCH: Input should be greater than"),
        ({"MQ_NEGATIVE_TTL_S": "120"}, "MQ_NEGATIVE_TTL_S must not exceed MQ_CACHE_TTL_S"),
    ],
)
def test_a_bad_setting_gets_one_line_without_secrets(
    cli, env: dict[str, str], message: str
) -> None:
    code, _, err = cli("demo", **env)

    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert "s3cret" not in err


@pytest.mark.parametrize("service", ["redis", pytest.param("rabbitmq", marks=pytest.mark.redis)])
def test_a_missing_service_is_named_with_the_url_masked(cli, service: str, request) -> None:
    port = closed_port()
    if service == "redis":
        env = {"REDIS_URL": f"redis://:s3cret@127.0.0.1:{port}/0"}
        expected = f"Redis not reachable at redis://:***@127.0.0.1:{port}/0"
    else:  # Redis must answer, so that RabbitMQ is the one found missing
        redis_url = request.getfixturevalue("redis_url")
        env = {"REDIS_URL": redis_url, "RABBITMQ_URL": f"amqp://guest:s3cret@127.0.0.1:{port}/"}
        expected = f"RabbitMQ not reachable at amqp://guest:***@127.0.0.1:{port}/"

    code, out, err = cli("demo", **env)

    assert (code, out) == (1, "")
    assert err == f"{expected} - run: docker compose up -d redis rabbitmq\n"


@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("password", "refused the login: check the user and password in RABBITMQ_URL"),
        ("vhost", "closed the connection: does the vhost in RABBITMQ_URL exist?"),
    ],
)
def test_a_wrong_login_or_vhost_is_not_called_a_missing_service(
    cli, redis_url, rabbitmq_url, change: str, expected: str
) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(rabbitmq_url)
    host = f"{parts.hostname}:{parts.port or 5672}"
    user = parts.username or "guest"
    if change == "password":
        url = f"amqp://{user}:not-the-password@{host}/"
    else:
        url = f"amqp://{user}:{parts.password or 'guest'}@{host}/no-such-vhost-14"

    code, _, err = cli("demo", REDIS_URL=redis_url, RABBITMQ_URL=url)

    assert code == 1
    assert err.count("\n") == 1 and expected in err, err
    assert "not-the-password" not in err and "docker compose" not in err


@pytest.mark.redis
@pytest.mark.rabbitmq
def test_a_queue_left_with_other_arguments_gets_one_line(
    cli, redis_url, rabbitmq_url, namespace, doomed
) -> None:
    from messaging.amqp.topology import OrderTopology

    env = {"REDIS_URL": redis_url, "RABBITMQ_URL": rabbitmq_url, "MQ_NAMESPACE": namespace}
    doomed.extend(OrderTopology(namespace, 1, 1).names())
    first = cli("publish", "paid", "--order", "1", "--product", "1", MQ_DELIVERY_LIMIT="5", **env)
    assert first[0] == 0

    code, _, err = cli("consume", "shipping", "--wait", "1", MQ_DELIVERY_LIMIT="7", **env)

    assert code == 1
    assert err.count("\n") == 1 and "inequivalent arg 'x-delivery-limit'" in err, err
    assert "choose another MQ_NAMESPACE" in err
