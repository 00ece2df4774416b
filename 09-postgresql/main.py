"""Advanced PostgreSQL, run against a real server.

    python main.py seed [--scale N]    create the database if needed, generate and COPY the shop
    python main.py [tour]              every demo: the SQL, the answer, what the plan says
    python main.py explain NAME        one query's plan before and after its index

Needs PostgreSQL (DATABASE_URL, default: the compose service). There is no embedded
fallback: plans, MVCC snapshots and locks are the server's behaviour, the thing to learn.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import psycopg
from pydantic import ValidationError
from rich.console import Console

from demo.tour import Tour
from shopdb import dataset, db, indexes, loading
from shopdb.settings import Settings, database_name, libpq_url, masked, settings_error
from tools.cli import Parser

SECTIONS = ("queries", "indexes", "jsonb", "bookings", "transactions", "tuning")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # No command means `tour`: the lesson's main job (after a one-time `seed`).
    sub = parser.add_subparsers(dest="command")
    seed = sub.add_parser("seed", help="(re)create the shop's tables and load generated data")
    seed.add_argument("--scale", type=int, help="1 = 5,000 orders (default: DATASET_SCALE)")
    seed.add_argument("--seed", type=int, help="random seed (default: DATASET_SEED)")
    tour = sub.add_parser("tour", help="run every demo on the seeded shop")
    tour.add_argument("--only", choices=SECTIONS, help="run one section only")
    explain = sub.add_parser("explain", help="one query's plan before and after its index")
    explain.add_argument("name", choices=indexes.EXPLAIN_NAMES)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["tour"])
    if getattr(args, "scale", None) is not None and not 1 <= args.scale <= 200:
        parser.error("--scale must be between 1 and 200")
    return args


def cmd_seed(settings: Settings, args: argparse.Namespace, out: Console) -> None:
    url = settings.database_url
    scale = args.scale or settings.dataset_scale
    seed = settings.dataset_seed if args.seed is None else args.seed
    if db.create_database(url, timeout=settings.connect_timeout):
        out.print(f"created database {database_name(url)!r} at {masked(libpq_url(url))}")
    started = time.perf_counter()
    data = dataset.generate(scale, seed)
    with db.connect(url, timeout=settings.connect_timeout) as conn:
        counts = loading.seed(conn, data)
    took = time.perf_counter() - started
    summary = ", ".join(f"{n:,} {table}" for table, n in counts.items())
    out.print(f"seeded scale {scale} (seed {seed}) in {took:.1f} s: {summary}")


def cmd_tour(settings: Settings, args: argparse.Namespace, out: Console) -> None:
    url, timeout = settings.database_url, settings.connect_timeout
    with db.open_seeded(url, timeout=timeout) as conn:
        tour = Tour(conn, db.connector(url, timeout=timeout), out, url)
        if args.only is None:
            tour.run_all()
        elif args.only == "indexes":
            for name in indexes.EXPLAIN_NAMES:
                tour.run_index(name)
        else:
            getattr(tour, f"run_{args.only}")()


def cmd_explain(settings: Settings, args: argparse.Namespace, out: Console) -> None:
    url, timeout = settings.database_url, settings.connect_timeout
    with db.open_seeded(url, timeout=timeout) as conn:
        Tour(conn, db.connector(url, timeout=timeout), out, url).run_index(args.name)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: bad settings: {settings_error(exc)}", file=sys.stderr)
        return 2
    # soft_wrap: long result lines are left to the terminal instead of being cut at 80
    # columns when the output is a pipe or a file.
    out = Console(highlight=False, soft_wrap=True)
    commands = {"seed": cmd_seed, "tour": cmd_tour, "explain": cmd_explain}
    try:
        commands[args.command](settings, args, out)
    except db.BadConnectionSetting as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (db.ServiceUnavailable, db.LoginRefused, db.NotSeeded) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        # The server went away mid-way (restart, network): one line, not a traceback.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost"
        print(
            f"error: PostgreSQL at {masked(libpq_url(settings.database_url))} failed: {reason}"
            f" - is it running? docker compose up -d postgres",
            file=sys.stderr,
        )
        return 1
    except psycopg.Error as exc:
        # Refused by the server (e.g. no right to CREATE EXTENSION on a managed database).
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: PostgreSQL refused: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
