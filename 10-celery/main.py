"""Upload processing on Celery: routing, canvas, retries, beat and Flower.

python main.py demo                     a worker child, an upload, chain/group/chord, a retry
python main.py worker -Q io,cpu         a worker on chosen queues (add --pool, --concurrency)
python main.py beat                     the scheduler: run exactly one
python main.py flower --port 5555       the real Flower against the broker
python main.py serve --port 8000        the upload API (POST /uploads, GET /uploads/{id})
"""

from __future__ import annotations

import logging
import os
import sys

from cli import OneLineParser, fail, services_or_exit, settings_or_exit

KINDS = ("io", "cpu")
POOLS = ("prefork", "solo", "threads")


def parse(argv: list[str]) -> object:
    parser = OneLineParser(prog="main.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="run a worker child and show what it does (default)")
    demo.add_argument("--no-color", action="store_true", help="plain output")
    worker = sub.add_parser("worker", help="a worker on chosen queues")
    worker.add_argument("-Q", "--queues", default="io,cpu", help="kinds, comma list: io,cpu")
    worker.add_argument("--pool", default="prefork", help="prefork (default), solo or threads")
    worker.add_argument("-c", "--concurrency", type=int, default=2, help="pool size (1-64)")
    sub.add_parser("beat", help="the periodic scheduler (exactly one per deployment)")
    flower = sub.add_parser("flower", help="Flower's web UI and API on the broker")
    flower.add_argument("--port", type=int, default=5555, help="0-65535")
    serve = sub.add_parser("serve", help="the upload API on uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["demo", *argv])
    if args.command in ("flower", "serve") and not 0 <= args.port <= 65535:
        parser.error("--port must be 0-65535")
    if args.command == "worker":
        kinds = [k.strip() for k in args.queues.split(",") if k.strip()]
        if not kinds or any(k not in KINDS for k in kinds):
            parser.error(f"-Q takes a comma list of {', '.join(KINDS)}, not {args.queues!r}")
        args.kinds = kinds
        if args.pool not in POOLS:
            parser.error(f"--pool must be one of {', '.join(POOLS)}")
        if not 1 <= args.concurrency <= 64:
            parser.error("--concurrency must be 1-64")
    return args


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The embedded broker's URL has no host, which kombu warns about on every connection.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    args = parse(argv)
    settings = settings_or_exit()
    services_or_exit(settings)
    if args.command == "demo":
        from demo.tour import run_demo

        return run_demo(settings, color=not args.no_color)
    if args.command == "serve":
        import uvicorn

        from uploads.api import create_app

        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
        return 0
    from uploads.worker import app

    if args.command == "worker":
        queues = ",".join(settings.queue(kind) for kind in args.kinds)
        app.worker_main(["worker", "-Q", queues, "--pool", args.pool, "-c",
                         str(args.concurrency), "-O", "fair", "-l", "INFO"])  # fmt: skip
    elif args.command == "beat":
        schedule = settings.database_path.parent / "celerybeat-schedule"
        app.start(["beat", "-s", str(schedule), "-l", "INFO"])
    elif args.command == "flower":
        # Flower 2 answers its HTTP API only to authenticated users unless told otherwise;
        # this binds to 127.0.0.1, so the API is open to this machine alone.
        os.environ.setdefault("FLOWER_UNAUTHENTICATED_API", "true")
        app.start(["flower", f"--port={args.port}", "--address=127.0.0.1"])
    else:
        fail(f"main.py: unknown command {args.command}", 2)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
