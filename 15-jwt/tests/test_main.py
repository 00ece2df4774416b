"""main.py: the demo exits 0 with no service; decode and verify read tokens from anywhere;
a bad argument or setting is one line and exit 2; a refused token or missing service exit 1."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import make_url

from demo.server import ServerThread
from main import main
from tests.conftest import login, make_settings
from tests.tokens_util import AUD, ISS, claims, sign
from tokens.app import create_app
from tokens.keyring import KeyRing

SECRET = b"k" * 32
SECRET_B64 = base64.urlsafe_b64encode(SECRET).decode().rstrip("=")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse exits on a bad argument
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JWT_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tokens.db'}")


def test_demo_runs_end_to_end_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """The whole story, in this process (its imports are paid already): exit 0 means every
    step got the answer it expected."""
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "-> 400 invalid_grant: refresh token used twice" in out
    assert out.strip().endswith("demo finished: every step answered as expected")


def hs_token(**changes: Any) -> str:
    return jwt.encode(claims(**changes), SECRET, algorithm="HS256")


def test_decode_says_it_did_not_verify(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", hs_token(sub="grace"))
    assert code == 0 and out.startswith("NOT VERIFIED")
    assert '"sub": "grace"' in out and '"alg": "HS256"' in out
    code, _, err = run(capsys, "decode", "not.a-token")
    assert code == 1 and err.count("\n") == 1 and "not a JWT" in err


def test_verify_with_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "verify", hs_token(), "--secret-b64url", SECRET_B64, "--aud", AUD, "--iss", ISS
    )
    assert code == 0 and json.loads(out)["sub"] == "ada"


@pytest.mark.parametrize(
    ("token_changes", "extra", "reason"),
    [
        ({"exp": int(time.time()) - 5}, [], "expired"),
        ({}, ["--aud", "other"], "wrong_audience"),
        ({}, ["--iss", "http://localhost:9999"], "wrong_issuer"),
        ({"exp": None}, [], "missing_claim"),
        ({}, ["--alg", "HS512"], "alg_not_allowed"),
    ],
)
def test_verify_refusals_are_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], token_changes: dict[str, Any], extra: list[str], reason: str
) -> None:
    code, out, err = run(
        capsys, "verify", hs_token(**token_changes), "--secret-b64url", SECRET_B64, *extra
    )
    assert code == 1 and out == ""
    assert err.startswith(f"refused: {reason}:") and err.count("\n") == 1


def test_wrong_secret_and_no_exp(capsys: pytest.CaptureFixture[str]) -> None:
    wrong = base64.urlsafe_b64encode(b"w" * 32).decode()
    assert run(capsys, "verify", hs_token(), "--secret-b64url", wrong)[2].startswith(
        "refused: bad_signature"
    )
    no_exp = hs_token(exp=None)
    assert run(capsys, "verify", no_exp, "--secret-b64url", SECRET_B64, "--no-exp")[0] == 0


def test_verify_with_a_jwk_file_and_a_jwks_url(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, serve: Callable[[Any], ServerThread]
) -> None:
    settings = make_settings(tmp_path)
    ring = KeyRing(settings.algorithm, settings.key_retire_after_s)
    token = sign(ring.current, claims())
    jwk_file = tmp_path / "key.json"
    jwk_file.write_text(json.dumps(ring.current.public_jwk()))
    assert run(capsys, "verify", token, "--jwk", str(jwk_file))[0] == 0
    rsa = KeyRing("RS256", 60).current  # a private JWK by mistake: its public half is used
    private_jwk = {**RSAAlgorithm.to_jwk(rsa.private, as_dict=True), "alg": "RS256"}
    jwk_file.write_text(json.dumps(private_jwk))
    assert run(capsys, "verify", sign(rsa, claims()), "--jwk", str(jwk_file))[0] == 0
    jwk_file.write_text(json.dumps(ring.current.public_jwk()))
    code, _, err = run(capsys, "verify", token, "--jwk", str(jwk_file), "--alg", "RS256")
    assert code == 1 and err.startswith("refused: alg_not_allowed")
    server = serve(create_app(settings, ring))
    code, out, _ = run(capsys, "verify", token, "--jwks-url", f"{server.url}/.well-known/jwks.json")
    assert code == 0 and json.loads(out)["aud"] == AUD


def test_jwks_url_unreachable_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "k1"})
    code, _, err = run(capsys, "verify", token, "--jwks-url", "http://127.0.0.1:1/jwks.json")
    assert code == 1 and err.count("\n") == 1 and "JWKS not reachable at http://127.0.0.1:1" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["fly"],
        ["verify", "t"],
        ["verify", "t", "--secret-b64url", "a", "--jwk", "f"],
        ["verify", "t", "--secret-b64url", "a", "--alg", "none"],
        ["verify", "t", "--secret-b64url", "!!not base64!!"],
        ["verify", "t", "--secret-b64url", "!!!"],  # a lenient decoder reads it as b""
        ["verify", "t", "--secret-b64url", ""],
        ["verify", "t", "--secret-b64url", SECRET_B64, "--alg", "RS256"],
        ["verify", "t", "--jwk", "/no/such/file.json"],
        ["verify", "t", "--jwks-url", "file:///etc/passwd"],
        ["serve", "--port", "70000"],
        ["serve", "--port", "http"],
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "error:" in err


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("JWT_ACCESS_TTL_S", "soon", "JWT_ACCESS_TTL_S"),
        ("JWT_ALGORITHM", "none", "JWT_ALGORITHM"),
        ("DATABASE_URL", "mysql://user:s3cret@db/x", "DATABASE_URL"),
        ("DATABASE_URL", "sqlite:///:memory:", "in-memory"),
        ("REDIS_URL", "http://user:s3cret@cache", "REDIS_URL"),
        ("JWT_LEEWAY_S", "600", "JWT_LEEWAY_S"),
        ("DATABASE_URL", "postgresql://u:s3cret@db:notaport/x", "port is not a number"),
        ("DATABASE_URL", "sqlite+aiosqlite:///var/t.db", "synchronous"),
        ("REDIS_URL", "redis://:s3cret@cache:notaport/0", "port is not a number"),
        ("JWT_JWKS_URL", "http://auth:notaport/.well-known/jwks.json", "port is not a number"),
    ],
)
def test_bad_settings_are_one_line_exit_2_without_secrets(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    shown: str,
) -> None:
    monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "demo")
    assert code == 2 and err.count("\n") == 1 and shown in err
    assert "s3cret" not in err


@pytest.mark.parametrize(
    ("name", "url", "service"),
    [
        ("REDIS_URL", "redis://:s3cret@127.0.0.1:1/0", "redis"),
        ("DATABASE_URL", "postgresql://postgres:s3cret@127.0.0.1:1/x", "postgres"),
    ],
)
def test_missing_service_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    url: str,
    service: str,
) -> None:
    monkeypatch.setenv(name, url)
    code, _, err = run(capsys, "demo")
    assert code == 1 and err.count("\n") == 1
    assert f"docker compose up -d {service}" in err and "***" in err and "s3cret" not in err


@pytest.mark.postgres
def test_a_database_that_does_not_exist_is_a_setting_to_fix_not_a_server_to_start(
    postgres_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"no_such_db_{secrets.token_hex(4)}"
    missing = make_url(postgres_database).set(database=name)  # the server that answered
    monkeypatch.setenv("DATABASE_URL", missing.render_as_string(hide_password=False))

    code, _, err = run(capsys, "demo")

    assert code == 2 and err.count("\n") == 1
    assert f'database "{name}" does not exist' in err and "docker compose" not in err


def test_serve_answers_on_its_port_and_a_busy_port_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`main.py serve --port 0` (run in a thread of this process, so its imports are paid
    already): it prints its URL, serves a login, and a second serve on the same port says so
    in one line, exit 1."""
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
        with httpx.Client(base_url=url, timeout=10) as http:
            assert login(http)["token_type"] == "Bearer"
        port = url.rsplit(":", 1)[1]
        code, _, err = run(capsys, "serve", "--port", port)
        assert code == 1 and err == f"cannot listen on 127.0.0.1:{port}: Address already in use\n"
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(30)
    assert codes == [0]
