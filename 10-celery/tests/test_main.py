"""main.py as a learner meets it: the demo runs with no service, odd settings are one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import main
from uploads.settings import Settings

LESSON = Path(__file__).resolve().parents[1]
SERVICES = ("RABBITMQ_URL", "REDIS_URL", "BROKER", "QUEUE_PREFIX", "DATABASE_URL", "UPLOAD_DIR")


def test_the_demo_runs_a_worker_child_on_the_embedded_broker_and_exits_0(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SERVICES}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'uploads.db'}",
            "UPLOAD_DIR": str(tmp_path / "files")}  # fmt: skip

    result = subprocess.run(
        [sys.executable, "main.py", "demo", "--no-color"], cwd=LESSON, env=env,
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip

    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "broker:  filesystem://" in out
    assert "thumbnail@uploads.cpu" in out and "word_count@uploads.cpu" in out
    assert "chain add(2,3) | add(10) | add(100)        = 115" in out
    assert "= 15" in out and "chord failed: ValueError: 3 is the bad one" in out
    assert "succeeded after 2 retries" in out
    assert "worker exited with code 0" in out
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"RABBITMQ_URL": "http://guest:s3cret@localhost:5672/"}, "not a amqp URL"),
        ({"RABBITMQ_URL": "amqp://guest:s3cret@localhost:notaport/"}, "port is not a number"),
        ({"REDIS_URL": "redis://:s3cret@localhost:63x9/0"}, "port is not a number"),
        ({"BROKER": "kafka"}, "use rabbitmq or redis"),
        ({"BROKER": "redis", "REDIS_URL": ""}, "BROKER=redis needs REDIS_URL"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "SQLite file"),
        ({"DATABASE_URL": "postgresql://u:s3cret@localhost/db"}, "SQLite file"),
        ({"TIMEZONE": "Mars/Base"}, "unknown time zone"),
        ({"TASK_SOFT_TIME_LIMIT": "90"}, "below TASK_TIME_LIMIT"),
        ({"WORKER_PREFETCH_MULTIPLIER": "0"}, "WORKER_PREFETCH_MULTIPLIER"),
        ({"QUEUE_PREFIX": "a b"}, "QUEUE_PREFIX"),
    ],
)
def test_a_bad_setting_is_one_line_exit_2_without_the_password(
    env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name in SERVICES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as exited:
        main.main(["demo"])

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and says in err and "s3cret" not in err


@pytest.mark.parametrize(("variable", "service"), [("RABBITMQ_URL", "rabbitmq"),
                                                   ("REDIS_URL", "redis")])  # fmt: skip
def test_an_unreachable_service_is_one_line_with_the_command_that_starts_it(
    variable: str, service: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name in SERVICES:
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        port = sock.getsockname()[1]
        scheme = "amqp://guest" if service == "rabbitmq" else "redis://u"
        monkeypatch.setenv(variable, f"{scheme}:s3cret@127.0.0.1:{port}/")

        with pytest.raises(SystemExit) as exited:
            main.main(["worker"])

    err = capsys.readouterr().err
    assert exited.value.code == 1 and err.count("\n") == 1, err
    assert f"docker compose up -d {service}" in err and "s3cret" not in err and "***" in err


@pytest.mark.parametrize(
    "args",
    [["worker", "-Q", "gpu"], ["worker", "--pool", "gevent"], ["worker", "-c", "0"],
     ["flower", "--port", "70000"], ["serve", "--port", "x"], ["bogus"]],
)  # fmt: skip
def test_a_bad_argument_is_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main.main(args)

    assert exited.value.code == 2 and capsys.readouterr().err.count("\n") == 1


def test_the_env_example_is_a_working_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVICES:
        monkeypatch.delenv(name, raising=False)

    settings = Settings(_env_file=LESSON / ".env.example")  # type: ignore[call-arg]

    assert settings.broker_url == "amqp://guest:guest@localhost:5672/"
    assert settings.result_backend == "redis://localhost:6379/0"
    assert settings.upload_dir == LESSON / "var" / "files"
