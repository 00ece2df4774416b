"""The demo: a real worker child, two uploads with their progress, the canvas, a retried task.

On the embedded default the broker is a folder of files and results are rows in SQLite, but
the worker is a real `celery worker` process: everything crosses a process boundary as JSON.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from celery import Celery, chain, chord, chunks, group
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from rich.console import Console

from tools.procs import READY, start_worker
from uploads.api import create_app
from uploads.celery_app import make_celery
from uploads.settings import Settings, safe_url
from uploads.store import make_engine, runs

TIMEOUT = 60


def run_demo(settings: Settings, color: bool = True) -> int:
    console = Console(no_color=not color, highlight=False)
    app = make_celery(settings)
    console.rule("[bold]1. A worker process on the io and cpu queues")
    console.print(f"broker:  {safe_url(settings.broker_url)}")
    console.print(f"results: {safe_url(settings.result_backend)}")
    log = settings.database_path.parent / "demo-worker.log"
    # On the embedded broker a worker whose prefetch is used up waits for its 2 s poll to
    # end before it fetches again; a deeper prefetch keeps the demo's bursts moving. On
    # RabbitMQ the broker pushes the next message as soon as one is acknowledged.
    prefetch = 8 if settings.embedded else None
    worker = start_worker("demo", [settings.queue("io"), settings.queue("cpu")], {}, log,
                          pool="prefork", concurrency=2, prefetch=prefetch)  # fmt: skip
    try:
        worker.wait_for(READY, timeout=TIMEOUT)
        console.print(f"worker pid {worker.pid} ready (prefork, 2 processes; log: {log})")
        uploads(console, settings, app)
        canvas(console, app)
        retries(console, settings, app)
    finally:
        console.rule("[bold]6. Warm shutdown: the worker finishes what it runs, then exits")
        worker.stop()
        console.print(f"worker exited with code {worker.proc.returncode}")
    return 0


def uploads(console: Console, settings: Settings, app: Celery) -> None:
    console.rule("[bold]2. Two uploads: the request stores and enqueues, a worker does the rest")
    with TestClient(create_app(settings, app)) as client:
        ids = [
            send(console, client, "photo.png", sample_png(), "image/png"),
            send(
                console,
                client,
                "notes.txt",
                b"Celery moves slow work out of requests.\n",
                "text/plain",
            ),  # fmt: skip
        ]
        seen: set[tuple[str, str, int]] = set()
        deadline = time.monotonic() + TIMEOUT
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            for upload_id in sorted(pending):
                body = client.get(f"/uploads/{upload_id}").json()
                point = (upload_id, body["step"] or body["state"], body["progress"])
                if point not in seen:
                    seen.add(point)
                    console.print(f"  {upload_id[:8]}  {body['state']:<10} "
                                  f"{body['step'] or '':<10} {body['progress']:>3}%")  # fmt: skip
                if body["state"] in ("done", "failed"):
                    pending.discard(upload_id)
                    console.print(f"  {upload_id[:8]}  -> {body['info']}")
            time.sleep(0.05)
    engine = make_engine(settings.database_url)
    for upload_id in ids:
        steps = ", ".join(f"{r.task.removeprefix('uploads.')}@{r.queue}" for r in
                          runs(engine, upload_id))  # fmt: skip
        console.print(f"  {upload_id[:8]}  ran: {steps}")


def send(console: Console, client: TestClient, name: str, data: bytes, kind: str) -> str:
    response = client.post("/uploads", files={"file": (name, data, kind)})
    body = response.json()
    console.print(f"POST /uploads {name} -> {response.status_code} {body}")
    return str(body["id"])


def canvas(console: Console, app: Celery) -> None:
    console.rule("[bold]3. Canvas: chain, group, chord, chunks")
    add, tsum = app.signature("uploads.add"), app.signature("uploads.tsum")
    show(console, "chain add(2,3) | add(10) | add(100)",
         chain(add.clone((2, 3)), add.clone((10,)), add.clone((100,))).apply_async())  # fmt: skip
    show(console, "group add(i,i) for i in 0..4",
         group(add.clone((i, i)) for i in range(5)).apply_async())  # fmt: skip
    show(console, "chord [add(i,1) for i in 0..4] -> tsum",
         chord(add.clone((i, 1)) for i in range(5))(tsum))  # fmt: skip
    show(console, "chunks add over 10 pairs, 5 per message",
         chunks(add, [(i, i) for i in range(10)], 5).apply_async())  # fmt: skip
    console.rule("[bold]4. A chord whose member fails: the callback never runs")
    bad = chord(app.signature("uploads.fail_if", (i, 3)) for i in range(5))(tsum)
    try:
        bad.get(timeout=TIMEOUT, interval=0.05)
    except Exception as exc:
        console.print(f"  chord failed: {type(exc).__name__}: {exc}")


def show(console: Console, label: str, result: Any) -> None:
    started = time.perf_counter()
    value = result.get(timeout=TIMEOUT, interval=0.05)
    took = (time.perf_counter() - started) * 1000
    console.print(f"  {label:<42} = {value}   ({took:.0f} ms)", markup=False)


def retries(console: Console, settings: Settings, app: Celery) -> None:
    console.rule("[bold]5. A transient error: retried with backoff and jitter, then it succeeds")
    key = f"demo-{uuid.uuid4().hex[:8]}"
    value = app.send_task("uploads.flaky", (key, 2)).get(timeout=TIMEOUT, interval=0.05)
    previous: datetime | None = None
    for attempt in runs(make_engine(settings.database_url), key):
        wait = ""
        if previous:  # no ETA on the message: jitter drew a countdown of 0
            eta = (
                datetime.fromisoformat(attempt.eta).replace(tzinfo=None)
                if attempt.eta
                else previous
            )
            wait = f"  (countdown {(eta - previous).total_seconds():.2f} s)"
        console.print(f"  try {attempt.retries + 1} at {attempt.at:%H:%M:%S.%f}{wait}")
        previous = attempt.at
    console.print(f"  succeeded after {value} retries")


def sample_png() -> bytes:
    import io

    image = Image.new("RGB", (800, 600), (30, 90, 160))
    ImageDraw.Draw(image).ellipse((200, 100, 600, 500), fill=(240, 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
