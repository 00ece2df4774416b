"""Lesson 17: resilience under injected faults.

python main.py demo                 every pattern against the fault injector, a table each (default)
python main.py serve --port 8000    the protected API until Ctrl-C (fault injectors started
                                    for it); limits in memory, or in Redis with REDIS_URL
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading

import redis
from pydantic import ValidationError

from demo.tour import run_demo
from faults.app import Faults
from faults.app import create_app as faults_app
from resilience.api import create_app
from resilience.settings import Settings, mask
from tools.cli import OneLineParser
from tools.serving import ServerThread


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(
        prog="main.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", nargs="?", choices=["demo", "serve"], default="demo")
    parser.add_argument("--host", default="127.0.0.1", help="API address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0-65535, got {args.port}")
    return args


def load_settings() -> Settings | None:
    """RESILIENCE_* and REDIS_URL; a bad one is one line naming the variable, never its value
    (a URL may hold a password: the validators show it masked)."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        name = "REDIS_URL" if field in ("redis_url", "REDIS_URL") else f"RESILIENCE_{field.upper()}"
        if not first["loc"]:
            name = "RESILIENCE_*"
        message = str(first["msg"]).removeprefix("Value error, ")
        print(f"main.py: error: bad setting {name}: {message} (see .env.example)", file=sys.stderr)
        return None


def redis_answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            client.ping()
    except (redis.RedisError, OSError, ValueError):
        print(f"Redis not reachable at {mask(url)} - run: docker compose up -d redis",
              file=sys.stderr)  # fmt: skip
        return False
    return True


def serve(settings: Settings, host: str, port: int) -> int:
    started: list[ServerThread] = []
    try:
        urls = {}
        for name in ("inventory", "recommendations"):
            url = getattr(settings, f"{name}_url")
            if url is None:  # a fault injector of our own, healthy until told otherwise
                started.append(ServerThread(faults_app(Faults(), name)).start())
                url = started[-1].url
            urls[f"{name}_url"] = url
        settings = settings.model_copy(update=urls)
        try:
            api = ServerThread(create_app(settings), host, port).start()
        except OSError as exc:
            print(f"cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
            return 1
        started.append(api)
        limiter = f"redis {mask(settings.redis_url)}" if settings.redis_url else "in memory"
        print(f"API:              {api.url}   (docs: {api.url}/docs)")
        print(f"inventory:        {settings.inventory_url}")
        print(f"recommendations:  {settings.recommendations_url}")
        print(f"rate limit:       {settings.rate_limit} per {settings.rate_window_s:g} s per client"
              f" and route, {settings.rate_algorithm}, {limiter}")  # fmt: skip
        print("Try:")
        print(f"  curl -i {api.url}/inventory/1")
        print(f"  curl -i -H 'X-Deadline-Ms: 50' {api.url}/recommendations/1")
        print(f"  curl -X PUT -H 'Content-Type: application/json' -d '{{\"latency_ms\": 3000}}' "
              f"{settings.recommendations_url}/faults")  # fmt: skip
        print("Ctrl-C stops everything.", flush=True)
        threading.Event().wait()
    finally:
        for server in reversed(started):
            server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    if settings is None:
        return 2
    try:
        if args.command == "demo":
            asyncio.run(run_demo(print))
            print("\ndemo finished")
            return 0
        if settings.redis_url and not redis_answers(settings.redis_url):
            return 1
        return serve(settings, args.host, args.port)
    except KeyboardInterrupt:
        print("main.py: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the reader left: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
