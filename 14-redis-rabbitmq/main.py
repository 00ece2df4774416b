"""Lesson 14: caching, pub/sub, streams and AMQP routing, on Redis and RabbitMQ.

python main.py demo                                  the order-events scenario, narrated
python main.py publish created --order 1 --product 2 an event to the topic exchange
python main.py publish paid --order 1 --product 2 --via stream   ...or to the Redis stream
python main.py consume billing --count 5 --wait 10   read (and ack) from a consumer's queue
python main.py consume audit --via pubsub            listen on the pub/sub channels
python main.py clean                                 delete the queues and the stream again

Needs Redis and RabbitMQ: docker compose up -d redis rabbitmq
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from demo.poke import clean, consume, publish
from demo.scenario import run_demo
from messaging.events import OrderEvent
from tools.cli import OneLineParser, load_settings, versions

VIA = ("amqp", "stream", "pubsub")
CONSUMERS = ("billing", "shipping", "audit")


def number(low: int, high: int) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse  # type: ignore[return-value]


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 3600 seconds")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="main.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="{demo,publish,consume,clean}")
    commands.add_parser("demo", help="the order-events scenario (the default)")
    pub = commands.add_parser("publish", help="publish one order event")
    pub.add_argument("kind", choices=("created", "paid", "shipped", "cancelled"))
    pub.add_argument("--order", type=number(1, 10**9), required=True, help="order id")
    pub.add_argument("--product", type=number(1, 10**9), required=True, help="product id")
    pub.add_argument("--quantity", type=number(1, 1000), default=1)
    pub.add_argument("--via", choices=VIA, default="amqp", help="default: amqp")
    con = commands.add_parser("consume", help="print (and ack) events of one consumer")
    con.add_argument("consumer", choices=CONSUMERS)
    con.add_argument("--via", choices=VIA, default="amqp", help="default: amqp")
    con.add_argument("--count", type=number(1, 100_000), default=10, help="stop after N events")
    con.add_argument("--wait", type=seconds, default=5.0, help="stop after S seconds in all")
    commands.add_parser("clean", help="delete what publish and consume created")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    if isinstance(settings, str):
        print(f"main.py: {settings}", file=sys.stderr)
        return 2
    found = asyncio.run(versions(settings))
    if isinstance(found, str):
        print(found, file=sys.stderr)
        return 1
    try:
        if args.command == "publish":
            event = OrderEvent(kind=args.kind, order_id=args.order, product_id=args.product,
                               quantity=args.quantity)  # fmt: skip
            return asyncio.run(publish(settings, event, args.via))
        if args.command == "clean":
            return asyncio.run(clean(settings))
        if args.command == "consume":
            return asyncio.run(consume(settings, args.consumer, args.via, args.count, args.wait))
        return asyncio.run(run_demo(settings, found))
    except KeyboardInterrupt:
        print("main.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
