"""main.py as a learner meets it: the demo exits 0 with no service, totp agrees with pyotp,
a bad argument or setting is one line and exit 2, a missing service one line and exit 1."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pyotp
import pytest
import redis
import uvicorn

import bench
from demo.people import PEOPLE
from main import main

SECRET = "JSVHQH4QJA2AOZVPFA7GZ3FQXHH6SAWS"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse and fail() exit
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'auth.db'}")
    # The demo shows the story, not the cost: cheap hashing keeps this test quick.
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("ARGON2_TIME_COST", "1")
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")


def test_demo_runs_end_to_end_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "the code without code_verifier -> 400 invalid_grant" in out
    assert "after  $argon2id$" in out and "429 too_many_attempts" in out
    assert out.strip().endswith("demo finished: every step answered as expected")


@pytest.mark.redis
def test_demo_runs_on_redis_under_keys_of_its_own(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    redis_prefix: str,  # its keys are deleted afterwards
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_PREFIX", redis_prefix)
    # A previous run's throttle state under the plain prefix must not block this run.
    with redis.Redis.from_url(redis_url) as client:
        client.set(f"{redis_prefix}throttle:user:cyd:until", repr(time.time() + 3600), ex=60)
        code, out, err = run(capsys, "demo")
        demo_keys = list(client.scan_iter(match=f"{redis_prefix}demo-*"))
    assert code == 0, err
    assert "sessions in Redis" in out and out.strip().endswith("as expected")
    assert demo_keys  # its sessions and counters live under a prefix of its own


@pytest.mark.parametrize(
    ("extra", "kwargs"),
    [
        ([], {}),
        (["--digits", "8"], {"digits": 8}),
        (["--algorithm", "SHA256"], {"digest": "sha256"}),
        (["--algorithm", "SHA512", "--period", "60"], {"digest": "sha512", "interval": 60}),
    ],
)
def test_totp_prints_what_an_authenticator_app_shows(
    capsys: pytest.CaptureFixture[str], extra: list[str], kwargs: dict[str, object]
) -> None:
    import hashlib

    if "digest" in kwargs:
        kwargs["digest"] = getattr(hashlib, str(kwargs["digest"]))
    code, out, _ = run(capsys, "totp", "--secret-b32", SECRET, "--at", "1700000000", *extra)
    assert code == 0
    assert out.split()[0] == pyotp.TOTP(SECRET, **kwargs).at(1_700_000_000)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["fly"], "invalid choice"),
        (["totp"], "--secret-b32"),
        (["totp", "--secret-b32", "not base32!"], "not base32"),
        (["totp", "--secret-b32", "JBSWY3DPEHPK3PXP"], "too short"),
        (["totp", "--secret-b32", SECRET, "--digits", "7"], "invalid choice"),
        (["totp", "--secret-b32", SECRET, "--algorithm", "MD5"], "invalid choice"),
        (["totp", "--secret-b32", SECRET, "--period", "0"], "--period"),
        (["totp", "--secret-b32", SECRET, "--at", "soon"], "invalid float"),
        (["totp", "--secret-b32", SECRET, "--at", "-5"], "--at"),
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--port", "http"], "invalid int"),
    ],
)
def test_a_bad_argument_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err and "usage" not in err


@pytest.mark.parametrize("argv", [["--quick", "--rounds", "0"], ["--nope"], ["--repeats", "x"]])
def test_bench_bad_arguments_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        bench.parse(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "postgresql+asyncpg://u:s3cret@localhost/db"}, "driver 'asyncpg'"),
        ({"DATABASE_URL": "postgresql://u:s3cret@localhost:notaport/db"}, "port is not a number"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "forgets every user"),
        ({"DATABASE_URL": "mysql://u:s3cret@localhost/db"}, "'mysql' is not supported"),
        ({"REDIS_URL": "http://u:s3cret@localhost:6379"}, "REDIS_URL"),
        ({"SESSION_IDLE_S": "7200", "SESSION_ABSOLUTE_S": "3600"}, "must not exceed"),
        ({"ARGON2_TIME_COST": "0"}, "ARGON2_TIME_COST"),
        ({"COOKIE_SECURE": "maybe"}, "COOKIE_SECURE"),
        ({"OAUTH_CLIENTS": '{"app": ["http://evil/cb"]}'}, "https"),
        ({"OAUTH_CLIENTS": "not json"}, "OAUTH_CLIENTS"),
    ],
)
def test_a_bad_setting_is_one_line_exit_2_without_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str], says: str,
) -> None:  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "serve", "--port", "0")
    assert code == 2
    assert err.count("\n") == 1 and says in err and "s3cret" not in err


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"DATABASE_URL": "postgresql://u:s3cret@127.0.0.1:1/db"},
            "database not reachable at postgresql+psycopg://u:***@127.0.0.1:1/db",
        ),
        ({"REDIS_URL": "redis://u:s3cret@127.0.0.1:1/0"}, "Redis not reachable at redis://u:***@"),
    ],
)
def test_a_missing_service_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str], says: str,
) -> None:  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "serve", "--port", "0")
    assert code == 1 and err.count("\n") == 1
    assert says in err and "docker compose up -d" in err and "s3cret" not in err


def test_totp_qr_prints_the_uri_and_a_terminal_qr_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "totp", "--secret-b32", SECRET, "--qr", "ada", "--at", "0")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("otpauth://totp/Lesson%2016:ada?secret=" + SECRET)
    parsed = pyotp.parse_uri(lines[0])
    assert (
        isinstance(parsed, pyotp.TOTP) and parsed.at(0) == lines[-1].split()[0]
    )  # the URI makes that code
    assert len(lines) > 20 and any("█" in line or "▀" in line for line in lines[1:-1])


def test_serve_creates_the_demo_users_answers_and_a_busy_port_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`main.py serve --port 0`, run in a thread of this process (its imports are paid
    already): it prints its URL, a demo user logs in, and a second serve on the same port
    says so in one line, exit 1."""
    servers: list[uvicorn.Server] = []

    class Recorded(uvicorn.Server):  # the test's handle to stop what main() started
        def __init__(self, config: uvicorn.Config) -> None:
            super().__init__(config)
            servers.append(self)

    monkeypatch.setattr(uvicorn, "Server", Recorded)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(["serve", "--port", "0"])))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not (servers and servers[0].started):  # wait for a condition, not a time
            assert thread.is_alive() and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.02)
        first = capsys.readouterr().out.splitlines()[0]
        url = first.split(" on ", 1)[1].split(" ", 1)[0]
        with httpx.Client(base_url=url.replace("localhost", "127.0.0.1"), timeout=10) as http:
            form = {"grant_type": "password", "username": "bob", "password": PEOPLE["bob"][0]}
            assert http.post("/token", data=form).json()["token_type"] == "bearer"
            assert "<form id='login'" in http.get("/").text
        port = url.rstrip("/").rsplit(":", 1)[1]
        code, _, err = run(capsys, "serve", "--port", port)
        assert code == 1 and err == f"cannot listen on 127.0.0.1:{port}: Address already in use\n"
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(30)
    assert codes == [0]
