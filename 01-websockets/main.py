"""Run the chat server, or a narrated demo of it.

python main.py                 serve on http://127.0.0.1:8000 (open it in a browser)
python main.py --port 9000     serve elsewhere
python main.py demo            start a server and simulated clients, print what happens
REDIS_URL=redis://localhost:6379/0 python main.py --port 8001
                               a second instance sharing rooms through Redis
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from pydantic import ValidationError

from chat.server import bind, make_server
from chat.settings import DEV_SECRET, Settings, masked
from demo.tour import run_demo
from tools.cli import OneLineParser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(
        description="WebSocket chat: rooms, presence, heartbeats, slow consumers.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=("serve", "demo"),
        default="serve",
        help="serve (default): run the server; demo: a narrated run with simulated clients",
    )
    parser.add_argument("--host", help="interface to listen on (default: CHAT_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: CHAT_PORT or 8000)")
    args = parser.parse_args(argv)
    if args.port is not None and not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    return args


async def redis_reachable(url: str) -> bool:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
        return True
    except (redis.RedisError, OSError):
        return False
    finally:
        await client.aclose()


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        # A setting is an argument given through the environment: wrong -> exit 2, like argparse.
        first = exc.errors(include_url=False, include_input=False)[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        variable = name if name.isupper() else f"CHAT_{name.upper()}"  # REDIS_URL has no prefix
        print(f"bad setting {variable}: {first['msg']}", file=sys.stderr)
        return 2
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings.model_copy(update=overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    if settings.redis_url and not asyncio.run(redis_reachable(settings.redis_url)):
        return fail(
            f"Redis not reachable at {masked(settings.redis_url)} - run: docker compose up -d redis"
        )
    if args.command == "demo":
        logging.getLogger().setLevel(logging.WARNING)  # the demo narrates; keep logs quiet
        try:
            return asyncio.run(run_demo(settings))
        except BrokenPipeError:
            # `python main.py demo | head` closed our stdout: stop quietly, as CLI tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1

    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        return fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}")
    if settings.secret == DEV_SECRET:
        logging.warning("CHAT_SECRET is the development default; set your own in production")
    host, port = sock.getsockname()[:2]
    broker = "redis" if settings.redis_url else "memory"
    print(f"chat on http://{host}:{port}  (broker: {broker}; Ctrl+C stops)", flush=True)
    make_server(settings, log_level="info").run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
