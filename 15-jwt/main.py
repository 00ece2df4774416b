"""Lesson 15: JSON Web Tokens - an auth server and a protected API, and tools to read tokens.

python main.py serve [--host H] [--port 8000]   the auth server + API until Ctrl-C
python main.py demo                             login -> refresh -> rotation -> reuse -> logout
python main.py decode TOKEN                     header and claims, NOT verified
python main.py verify TOKEN (--secret-b64url K | --jwk FILE | --jwks-url URL)
                     [--alg ALG ...] [--aud A] [--iss I] [--no-exp]
                                                claims as JSON, or one line saying why not
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

import redis
import uvicorn
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tokens.settings import Settings
from tools.cli import OneLineParser, masked
from tools.inspect_cmd import ALGS, decode, verify_cmd


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(
        prog="main.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )
    serve = commands.add_parser("serve", help="run the auth server and the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("demo", help="the narrated tour; exits 0 when every step holds")
    dec = commands.add_parser("decode", help="print header and claims without verifying")
    dec.add_argument("token")
    ver = commands.add_parser("verify", help="verify a token and print its claims")
    ver.add_argument("token")
    keys = ver.add_mutually_exclusive_group(required=True)
    keys.add_argument("--secret-b64url", metavar="K", help="HMAC secret, base64url")
    keys.add_argument("--jwk", metavar="FILE", help="a public JWK as JSON")
    keys.add_argument("--jwks-url", metavar="URL", help="a JWKS endpoint")
    ver.add_argument(
        "--alg",
        nargs="+",
        choices=ALGS,
        metavar="ALG",
        help=f"algorithms to accept, of {', '.join(ALGS)} (default: the key's own)",
    )
    ver.add_argument("--aud", help="required audience")
    ver.add_argument("--iss", help="required issuer")
    ver.add_argument("--no-exp", action="store_true", help="accept a token without exp")
    args = parser.parse_args(argv)
    if args.command == "serve" and not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0-65535, got {args.port}")
    return args


def load_settings() -> Settings | None:
    """JWT_*, DATABASE_URL and REDIS_URL; a bad one is one line naming the variable, never
    its value (a URL may hold a password)."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]).upper() if first["loc"] else ""
        name = (
            field
            if field in ("DATABASE_URL", "REDIS_URL")
            else f"JWT_{field}"
            if field
            else "JWT_*"
        )
        message = first["msg"].removeprefix("Value error, ")
        print(f"main.py: error: bad setting {name}: {message} (see .env.example)", file=sys.stderr)
        return None


def services_answer(settings: Settings) -> int:
    """A configured service must answer: one line with the service, the URL (password
    masked) and the command that starts it (exit 1); or, when the server answered and said
    no (no such database or role, a wrong password), what to fix (exit 2). 0: all fine."""
    from tokens.db import make_engine

    if settings.redis_url:
        try:
            with redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2) as client:
                client.ping()
        except (redis.RedisError, OSError, ValueError):
            print(
                f"Redis not reachable at {masked(settings.redis_url)} - run: "
                "docker compose up -d redis",
                file=sys.stderr,
            )
            return 1
    if settings.database_url.startswith("postgresql"):
        engine = make_engine(settings.database_url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            said = str(getattr(exc, "orig", exc))
            if "FATAL:" in said:  # the server is up: starting it is not the fix
                reason = said.split("FATAL:", 1)[1].strip().splitlines()[0]
                print(
                    f"PostgreSQL at {masked(settings.database_url)} refused the connection: "
                    f"{reason} - fix DATABASE_URL",
                    file=sys.stderr,
                )
                return 2
            print(
                f"PostgreSQL not reachable at {masked(settings.database_url)} - run: "
                "docker compose up -d postgres",
                file=sys.stderr,
            )
            return 1
        finally:
            engine.dispose()
    return 0


def serve(settings: Settings, host: str, port: int) -> int:
    from tokens.app import create_app
    from tokens.users import DEMO_PASSWORDS, DEMO_SCOPES

    # Bind first: a busy port is then one line here, not uvicorn's log and traceback, and
    # with --port 0 the port the OS chose is known before anything is printed.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        print(f"cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    url = f"http://{host}:{sock.getsockname()[1]}"
    print(f"auth server + API on {url} (docs: {url}/docs, keys: {url}/.well-known/jwks.json)")
    print(
        f"signing {settings.algorithm}, keys in {settings.key_dir}, refresh tokens in "
        f"{masked(settings.database_url)}, denylist in "
        f"{masked(settings.redis_url) if settings.redis_url else 'memory'}"
    )
    for user, password in DEMO_PASSWORDS.items():
        print(f"  demo user {user!r}, password {password!r}: {' '.join(sorted(DEMO_SCOPES[user]))}")
    print("Try:")
    print(
        f"  curl -s -d grant_type=password -d username=ada "
        f"-d 'password={DEMO_PASSWORDS['ada']}' {url}/token"
    )
    print(f'  curl -s -H "Authorization: Bearer $ACCESS" {url}/items')
    print("  python main.py decode $ACCESS")
    print(
        f"  python main.py verify $ACCESS --jwks-url {url}/.well-known/jwks.json "
        f"--aud {settings.audience} --iss {settings.issuer}"
    )
    print("Ctrl-C stops the server.", flush=True)
    config = uvicorn.Config(create_app(settings), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    if args.command == "decode":
        return decode(args.token)
    if args.command == "verify":
        return verify_cmd(args)
    settings = load_settings()
    if settings is None:
        return 2
    if unavailable := services_answer(settings):
        return unavailable
    if args.command == "serve":
        return serve(settings, args.host, args.port)
    from demo.tour import TourError, run_tour

    try:
        run_tour(settings)
    except TourError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    print("demo finished: every step answered as expected")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
