"""Run the example system: three REST services behind an API gateway.

python main.py                 serve on http://127.0.0.1:8000 until Ctrl-C
python main.py --port 9000     ... on another port
python main.py demo            a scripted tour that exits when done
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading

import redis
from pydantic import ValidationError
from pydantic_settings import SettingsError

from demo.stack import Stack, start_gateway, start_upstreams
from demo.tour import TourError, run_tour
from gateway.settings import DEFAULT_KEYS, ApiClient, GatewaySettings
from services.common import ServiceSettings
from tools.cli import OneLineParser


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "command", nargs="?", choices=["serve", "demo"], default="serve", help="default: serve"
    )
    parser.add_argument("--host", default="127.0.0.1", help="gateway address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="gateway port (default 8000)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0-65535, got {args.port}")
    return args


def load_settings() -> GatewaySettings | None:
    """GATEWAY_*, REDIS_URL and SERVICE_* from the environment and .env; a bad one is one line,
    not a traceback. It names the variable but not the value: a key or a password may be in it."""
    try:
        ServiceSettings()  # read again by each service it starts: checked once, here
        return GatewaySettings()
    except SettingsError as exc:  # a JSON setting that is not JSON
        problem = str(exc)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]).upper()
        prefix = "SERVICE_" if exc.title == ServiceSettings.__name__ else "GATEWAY_"
        variable = field if field == "REDIS_URL" else prefix + field
        problem = f"{variable}: {first['msg'].removeprefix('Value error, ')}"
    print(f"main.py: error: bad setting {problem} (see .env.example)", file=sys.stderr)
    return None


def check_redis(url: str) -> bool:
    """REDIS_URL set means "share limits through Redis": then Redis must answer."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
    except (redis.RedisError, OSError, ValueError):
        print(f"Redis not reachable at {url} - run: docker compose up -d redis", file=sys.stderr)
        return False
    return True


def describe_keys(settings: GatewaySettings) -> tuple[list[str], str]:
    """What to say about the API keys, and the key for the example curl lines. The built-in
    keys are published demo values, so they are shown; keys from GATEWAY_API_KEYS are
    secrets: only their clients' names and routes are printed."""

    def routes(client: ApiClient) -> str:
        return "all routes" if "*" in client.routes else ", ".join(client.routes)

    if settings.api_keys == DEFAULT_KEYS:
        shown = [f"  {key}: {c.name} ({routes(c)})" for key, c in settings.api_keys.items()]
        return ["API keys (the built-in demo keys):", *shown], "demo-key"
    named = [f"  {c.name} ({routes(c)})" for c in settings.api_keys.values()]
    return ["API clients from GATEWAY_API_KEYS (keys not shown):", *named], "$API_KEY"


def serve(stack: Stack, settings: GatewaySettings, host: str, port: int) -> None:
    settings = settings.model_copy(update={"routes": stack.routes()})
    gateway = start_gateway(stack, settings, port, host)
    for name, servers in stack.upstreams.items():
        print(f"{name:>8}: " + ", ".join(s.url for s in servers))
    print(f" gateway: {gateway.url}   (docs: {gateway.url}/docs)")
    print(f" limiter: {'redis ' + settings.redis_url if settings.redis_url else 'in memory'}")
    lines, key = describe_keys(settings)
    print("\n" + "\n".join(lines) + "\nTry:")
    print(f'  curl -i -H "X-API-Key: {key}" {gateway.url}/products')
    print(f'  curl -i -H "X-API-Key: {key}" {gateway.url}/composite/orders/1')
    if key == "demo-key":
        print(f"  curl -i -H 'X-API-Key: catalog-key' {gateway.url}/orders")
    print(
        f"  curl -i -X POST -H \"X-API-Key: {key}\" -H 'Content-Type: application/json' \\\n"
        f'       -d \'{{"user_id": 1, "lines": [{{"product_id": 2, "quantity": 1}}]}}\' '
        f"{gateway.url}/orders"
    )
    print("Ctrl-C stops everything.")
    threading.Event().wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    # httpx logs every upstream call at INFO; the gateway's own access log says more.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings()
    if settings is None:
        return 2
    if settings.redis_url and not check_redis(settings.redis_url):
        return 1
    stack = start_upstreams()
    try:
        if args.command == "demo":
            logging.getLogger("gateway").setLevel(logging.ERROR)
            try:
                run_tour(stack, settings.redis_url, print)
            except TourError as exc:
                print(f"demo failed: {exc}", file=sys.stderr)
                return 1
            print("demo finished: every step answered as expected")
        else:
            try:
                serve(stack, settings, args.host, args.port)
            except BrokenPipeError:
                raise
            except OSError as exc:
                print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        print("stopping")
    except BrokenPipeError:
        # Output piped into `head` and the reader left: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
