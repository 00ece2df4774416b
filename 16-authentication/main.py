"""Authentication and authorization: passwords, OAuth2, sessions, RBAC and TOTP.

python main.py demo                     the whole story against a real server, exits 0
python main.py serve --port 8000        the app with its login page (demo users created)
python main.py totp --secret-b32 S [--at UNIX_TIME] [--digits 6|8]
                    [--algorithm SHA1|SHA256|SHA512] [--period 30]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import logging
import os
import sys
import time

from cli import OneLineParser, fail, redis_or_exit, services_or_exit, settings_or_exit


def parse(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="main.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("demo", help="users, TOTP, 403, PKCE, rehash, throttle, sessions (default)")
    serve = sub.add_parser("serve", help="the app on uvicorn until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    totp = sub.add_parser("totp", help="the code an authenticator app shows for a secret")
    totp.add_argument("--secret-b32", required=True, help="the base32 secret (otpauth secret=)")
    totp.add_argument("--at", type=float, help="unix time (default: now)")
    totp.add_argument("--digits", type=int, choices=(6, 8), default=6)
    totp.add_argument("--algorithm", choices=("SHA1", "SHA256", "SHA512"), default="SHA1")
    totp.add_argument("--period", type=int, default=30, help="seconds per code (default 30)")
    totp.add_argument(
        "--qr", metavar="ACCOUNT", help="also print the otpauth:// URI and its QR code for ACCOUNT"
    )
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["demo", *argv])
    if args.command == "serve" and not 0 <= args.port <= 65535:
        parser.error("--port must be 0-65535")
    if args.command == "totp":
        if not 1 <= args.period <= 3600:
            parser.error("--period must be 1-3600 seconds")
        if args.at is not None and not 0 <= args.at < 2**40:
            parser.error("--at must be a unix time in seconds, 0 or more")
        secret = args.secret_b32.replace(" ", "").upper()
        try:
            decoded = base64.b32decode(secret + "=" * (-len(secret) % 8))
        except (binascii.Error, ValueError):
            parser.error("--secret-b32 is not base32 (letters A-Z and digits 2-7)")
        if len(decoded) * 8 < 112:
            parser.error("--secret-b32 is too short: at least 112 bits (23 base32 characters)")
        args.secret_b32 = secret
        if args.qr is not None and not 1 <= len(args.qr) <= 64:
            parser.error("--qr takes an account name of 1-64 characters")
    return args


def cmd_totp(args: argparse.Namespace) -> int:
    from auth.totp import code_at, make_totp, qr_terminal

    if args.qr:
        # What an authenticator app scans; non-default digits, algorithm and period are in
        # the URI too (not every app honours them: SHA1, 6 digits, 30 s is the safe choice).
        totp = make_totp(args.secret_b32, args.digits, args.algorithm, args.period)
        uri = totp.provisioning_uri(name=args.qr, issuer_name="Lesson 16")
        print(uri)
        print(qr_terminal(uri), end="")
    at = time.time() if args.at is None else args.at
    code = code_at(args.secret_b32, at, digits=args.digits, algorithm=args.algorithm,
                   period=args.period)  # fmt: skip
    left = args.period - int(at) % args.period
    print(f"{code}   (step {int(at) // args.period}, valid {left} s more)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from auth.app import create_app, make_passwords
    from auth.db import make_engine, make_sessions
    from auth.users import Users
    from demo.people import ADA_TOTP_SECRET, PEOPLE, add_people
    from demo.server import bind

    settings = settings_or_exit()
    services_or_exit(settings)
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", 1)
    # The demo users, created once (the tables and roles too) before the app starts.
    engine = make_engine(settings.database_url)
    users = Users(make_sessions(engine), make_passwords(settings))
    users.ensure_roles()
    add_people(users)
    engine.dispose()
    port = sock.getsockname()[1]
    # Browsers accept Secure cookies from http://localhost (not from other plain-http hosts).
    print(f"serving on http://localhost:{port}/ (Ctrl-C stops)", flush=True)
    for name, (password, roles, _) in PEOPLE.items():
        print(f"  {name:4} {password!r:32} {', '.join(roles)}")
    print(f"  ada's TOTP code: python main.py totp --secret-b32 {ADA_TOTP_SECRET}", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="info"))
    server.run(sockets=[sock])
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse(argv)
    if args.command == "totp":
        return cmd_totp(args)
    if args.command == "serve":
        return cmd_serve(args)
    from demo.tour import TourError, run_tour

    settings = settings_or_exit()
    redis_or_exit(settings)  # the demo's database is a temporary SQLite file of its own
    try:
        run_tour(settings)
    except TourError as exc:
        fail(f"demo: a step did not answer as expected: {exc}", 1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as shell tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
