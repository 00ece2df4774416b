"""Run the orders service, its test report, or a mutation-testing run.

python main.py              serve the API (SQLite by default), print its URL and docs page
python main.py report       run the whole suite with coverage; HTML under var/coverage-html
                            (options after `report` go to pytest: report -n 2 -x)
python main.py mutate       mutation-test orders/domain.py with mutmut; summary in var/
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import socket
import subprocess
import sys

import psycopg
from pydantic import ValidationError
from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from orders.db import async_url
from orders.settings import LESSON_DIR, VAR_DIR, Settings
from tools.cli import OneLineParser, positive_int
from tools.mutation import MutationRunFailed, run_mutation


class CannotStart(Exception):
    """A service is down or the port is taken; the message is the one line the user sees."""


# What PostgreSQL says when it is up but will not let this user in. libpq reports these
# as text only (no SQLSTATE reaches the client before the session exists), hence a pattern.
LOGIN_REFUSED = re.compile(
    r'role "[^"]*" does not exist|password authentication failed for user "[^"]*"'
    r"|no pg_hba\.conf entry for host [^,\n]*|no password supplied"
)


def connection_problem(url: URL, message: str) -> str:
    """One actionable line for a failed connection: each cause has its own fix."""
    shown = url.render_as_string(hide_password=True)
    if url.database and f'database "{url.database}" does not exist' in message:
        return (
            f"PostgreSQL database {url.database!r} does not exist at {shown} - create it: "
            f"docker compose exec postgres createdb -U postgres {url.database}"
        )
    refused = LOGIN_REFUSED.search(message)
    if refused:
        # The server answered: "start it" would be the wrong advice.
        return (
            f"PostgreSQL at {shown} refused the login of user {url.username!r} "
            f"({refused.group(0)}) - check the user and password in DATABASE_URL"
        )
    return f"PostgreSQL not reachable at {shown} - run: docker compose up -d postgres"


class BadSetting(Exception):
    """A setting that cannot work as written; the message is the one line the user sees."""


# libpq's words for a URL it refuses before (or instead of) talking to a server: a setting
# to fix, not a server to start.
URL_REFUSED = re.compile(
    r'invalid \w+ value: "[^"]*"|invalid port number: "[^"]*"|invalid URI query parameter: "[^"]*"'
    r"|server does not support SSL, but SSL was required"
)


def check_database(settings: Settings) -> None:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        return  # SQLite needs no server
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        psycopg.connect(conninfo, connect_timeout=3).close()
    except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
        refused = URL_REFUSED.search(str(exc))
        if refused:
            raise BadSetting(f"main.py: bad setting database_url: {refused.group(0)}") from None
        raise CannotStart(connection_problem(url, str(exc))) from None


def listen(host: str, port: int) -> socket.socket:
    """Bind the port before anything starts, so "address in use" is one line, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CannotStart(
            f"cannot listen on {host}:{port}: {exc.strerror} (--port 0 picks a free port)"
        ) from None
    return sock


async def serve(settings: Settings, sock: socket.socket) -> None:
    # Imported here, not at the top: the web stack is most of the start-up time, and
    # `report`, `mutate` and a bad argument do not need it.
    import uvicorn

    from orders.api import create_app

    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    # Wait for start-up (lifespan done, socket listening) instead of guessing a delay.
    # uvicorn exposes only a flag, not an event, hence the short poll.
    while not server.started and not task.done():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://{settings.host}:{port}"
        print(f"orders API on {base}  (docs: {base}/docs, Ctrl-C stops)", flush=True)
    await task


def report(pytest_args: list[str]) -> int:
    html = VAR_DIR / "coverage-html"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        f"--cov-report=html:{html}",
        f"--junitxml={VAR_DIR / 'junit.xml'}",
        *pytest_args,
    ]
    index = html / "index.html"
    before = index.stat().st_mtime_ns if index.is_file() else None
    # stderr is kept back: pytest writes a usage error there (a block of lines), and this
    # command answers a bad argument like any other, in one line with exit 2.
    done = subprocess.run(cmd, cwd=LESSON_DIR, stderr=subprocess.PIPE, text=True)
    if done.returncode == 4:  # pytest.ExitCode.USAGE_ERROR
        errors = [ln for ln in done.stderr.splitlines() if "error:" in ln.lower()]
        reason = errors[-1].split("rror:", 1)[1].strip() if errors else "bad pytest arguments"
        print(f"main.py report: error: {reason}", file=sys.stderr)
        return 2
    sys.stderr.write(done.stderr)
    # Only a report this run wrote: an old one would describe other code.
    if index.is_file() and index.stat().st_mtime_ns != before:
        print(f"coverage report: {index}")
    return done.returncode


def mutate(max_children: int) -> int:
    print("mutmut: generating and testing mutants of orders/domain.py ...", flush=True)
    try:
        summary = run_mutation(max_children)
    except MutationRunFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    print(summary)
    print(f"surviving mutants and their diffs: {VAR_DIR / 'mutation.txt'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", help="interface to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to serve on; 0 picks a free one")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve the API (the default)")
    sub.add_parser(
        "report", help="run the suite with coverage, HTML into var/ (extra args go to pytest)"
    )
    mutate_cmd = sub.add_parser("mutate", help="mutation-test orders/domain.py with mutmut")
    mutate_cmd.add_argument(
        "--max-children", type=positive_int, default=2, help="parallel workers (1 or more)"
    )
    # Unknown options are allowed only for `report`, which hands them to pytest.
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "report":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")

    try:
        settings = Settings()
    except ValidationError as exc:
        # A bad environment variable is a bad argument too: one line, exit 2, no traceback.
        problem = exc.errors()[0]
        print(f"main.py: bad setting {problem['loc'][0]}: {problem['msg']}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "report":
        return report(extra)
    if args.command == "mutate":
        return mutate(args.max_children)
    overrides = {"host": args.host, "port": args.port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if not 0 <= settings.port <= 65535:
        parser.error(f"--port must be 0..65535, got {settings.port}")
    try:
        async_url(settings.database_url)  # also creates a SQLite file's folder
    except (ArgumentError, ValueError, OSError) as exc:
        print(f"main.py: bad setting database_url: {exc}", file=sys.stderr)
        return 2
    try:
        check_database(settings)
        with listen(settings.host, settings.port) as sock:
            asyncio.run(serve(settings, sock))
    except BadSetting as exc:
        print(exc, file=sys.stderr)
        return 2
    except CannotStart as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
