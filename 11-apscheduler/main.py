"""Scheduled jobs with APScheduler 3.

python main.py demo                    triggers, a live run table, a restart with missed runs
python main.py serve --port 8000       the jobs API with an AsyncIOScheduler
python main.py next "0 2 * * *" --tz Europe/London --count 5 [--after ISO]
python main.py instance --name a [--elect]   one app instance (run two to see duplicates)
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cli import OneLineParser, fail, reachable_or_exit, settings_or_exit
from scheduling.factory import build_scheduler, make_engine, memory_store
from scheduling.timezones import cron_trigger, next_fire_times


def parse(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="main.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="schedule a few jobs, watch them, restart (default)")
    demo.add_argument(
        "--seconds", type=float, default=4.0, help="how long each phase runs (default 4)"
    )
    serve = sub.add_parser("serve", help="the jobs API on uvicorn with an AsyncIOScheduler")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    nxt = sub.add_parser("next", help="the next fire times of a cron line, DST notes included")
    nxt.add_argument("cron", help='five crontab fields, e.g. "30 2 * * *"')
    nxt.add_argument("--tz", default="UTC", help="IANA zone the fields are read in")
    nxt.add_argument("--count", type=int, default=5, help="how many (1-100)")
    nxt.add_argument("--after", help="ISO time to start from (default now), in --tz if naive")
    inst = sub.add_parser("instance", help="one app instance with its own scheduler")
    inst.add_argument("--name", default="a", help="written into instance_runs per run")
    inst.add_argument("--elect", action="store_true", help="run jobs only while leader")
    inst.add_argument("--every", type=float, default=0.5, help="seconds between runs")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["demo", *argv])
    if args.command == "next" and not 1 <= args.count <= 100:
        parser.error("--count must be 1-100")
    if args.command == "serve" and not 0 <= args.port <= 65535:
        parser.error("--port must be 0-65535")
    if args.command == "demo" and not 0.5 <= args.seconds <= 60:
        parser.error("--seconds must be 0.5-60")
    if args.command == "instance" and not 0.05 <= args.every <= 3600:
        parser.error("--every must be 0.05-3600")
    return args


def cmd_next(args: argparse.Namespace) -> int:
    try:
        trigger = cron_trigger(args.cron, args.tz)
    except (ValueError, ZoneInfoNotFoundError) as exc:
        fail(f"main.py: {args.cron!r} in {args.tz!r}: {exc}", 2)
    zone = ZoneInfo(args.tz)
    after = datetime.now(zone)
    if args.after:
        try:
            after = datetime.fromisoformat(args.after)
        except ValueError:
            fail(f"main.py: --after {args.after!r} is not an ISO time (2027-03-14T00:00)", 2)
        after = after if after.tzinfo else after.replace(tzinfo=zone)
    for fire in next_fire_times(trigger, after, args.count):
        note = f"   <- {fire.note}" if fire.note else ""
        print(f"{fire.at:%Y-%m-%d %H:%M %Z}   {fire.utc:%Y-%m-%d %H:%M}Z{note}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from scheduling.api import create_app

    settings = settings_or_exit()
    reachable_or_exit(make_engine(settings))
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_instance(args: argparse.Namespace) -> int:
    """An app instance: adds its jobs at start-up, as every replica of a web app would."""
    from scheduling.leader import LeaderElection
    from scheduling.tasks import create_instance_runs

    settings = settings_or_exit()
    engine = make_engine(settings)
    reachable_or_exit(engine)
    create_instance_runs(engine)
    url = engine.url.render_as_string(hide_password=False)
    # Each replica keeps its jobs in memory and adds them at start: with N replicas, N runs.
    scheduler = build_scheduler(settings, "background", store=memory_store())
    scheduler.add_job(
        "scheduling.tasks:note_run", "interval", seconds=args.every, args=[url, args.name]
    )
    election = None
    if args.elect:
        if not settings.leader_lock_key:
            fail("main.py: --elect needs LEADER_LOCK_KEY (a number) and a PostgreSQL URL", 2)
        scheduler.start(paused=True)  # followers hold their jobs but run nothing
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        election = LeaderElection(
            conninfo, settings.leader_lock_key, scheduler, settings.leader_retry_s
        )
        election.start()
    else:
        scheduler.start()
    print(f"instance {args.name} running (elect={args.elect}); Ctrl-C stops", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    if election:
        election.stop()
    scheduler.shutdown(wait=False)
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse(argv)
    if args.command == "next":
        return cmd_next(args)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "instance":
        return cmd_instance(args)
    from demo.tour import run_demo

    settings = settings_or_exit()
    engine = make_engine(settings)
    reachable_or_exit(engine)
    return run_demo(settings, engine, args.seconds)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
