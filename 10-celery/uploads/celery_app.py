"""The Celery application, configured in one place.

Every process (the web app that sends, each worker, beat, Flower) builds the same app from the
same settings, so they agree on the broker, the queues and the routes.
"""

from __future__ import annotations

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

from uploads.settings import Settings

# Which queue each task goes to. I/O-bound steps (read a file, write a row) share the `io`
# workers; CPU-bound ones (decode an image, count words) get their own pool, so a burst of
# thumbnails never starves the quick steps behind them.
IO_TASKS = (
    "uploads.checksum",
    "uploads.metadata",
    "uploads.finish",
    "uploads.cleanup",
    "uploads.report_stats",
    "uploads.add",
    "uploads.tsum",
    "uploads.noop",
    "uploads.flaky",
    "uploads.fail_if",
    "uploads.sleepy",
)
CPU_TASKS = ("uploads.thumbnail", "uploads.word_count", "uploads.burn")


def make_celery(settings: Settings) -> Celery:
    app = Celery(
        "uploads",
        broker=settings.broker_url,
        backend=settings.result_backend,
        include=["uploads.tasks", "uploads.examples"],
    )
    io, cpu = settings.queue("io"), settings.queue("cpu")
    app.conf.update(
        # Only JSON on the wire: a task's arguments are ids and numbers, never ORM objects
        # (they would be stale by the time a worker reads them) and never pickles.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_queues=[Queue(io, routing_key=io), Queue(cpu, routing_key=cpu)],
        task_default_queue=io,
        task_routes={
            **{name: {"queue": io, "routing_key": io} for name in IO_TASKS},
            **{name: {"queue": cpu, "routing_key": cpu} for name in CPU_TASKS},
        },
        # Acknowledge a message after the task ran, not when it was received: a worker that
        # dies mid-task leaves the message unacknowledged, and the broker delivers it again.
        task_acks_late=True,
        # ... also when only the pool process died (SIGKILL, OOM): by default Celery would
        # acknowledge it and mark the task failed.
        task_reject_on_worker_lost=True,
        # One message reserved per pool process: a long task does not sit behind another
        # long task on a busy worker while an idle worker has nothing.
        worker_prefetch_multiplier=settings.worker_prefetch_multiplier,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        # STARTED as a state, and events for Flower and `celery events`.
        task_track_started=True,
        worker_send_task_events=True,
        task_send_sent_event=True,
        result_expires=settings.result_expires,
        result_extended=True,
        # Results in Redis under the same prefix as the queues: two apps on one Redis never
        # read each other's results.
        result_backend_transport_options={"global_keyprefix": settings.queue_prefix},
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options(settings),
        timezone=settings.timezone,
        enable_utc=True,
        beat_schedule={
            # An interval entry: every BEAT_INTERVAL_S seconds, from when beat started.
            "report-stats": {
                "task": "uploads.report_stats",
                "schedule": settings.beat_interval_s,
            },
            # A crontab entry, read in `timezone`: 03:00 London time, whatever UTC says.
            "nightly-cleanup": {
                "task": "uploads.cleanup",
                "schedule": crontab(hour=3, minute=0),
            },
        },
        uploads_database_url=settings.database_url,
        uploads_retry_jitter=settings.retry_jitter,
        uploads_retry_max=settings.retry_max,
        uploads_keep_days=settings.keep_days,
    )
    return app


def transport_options(settings: Settings) -> dict[str, object]:
    if not settings.embedded:
        return {}
    # The embedded broker: one file per message in a folder. It needs no server, but it has
    # no acknowledgements (a message is gone once read) and polls the folder.
    # It sits next to the SQLite file, so a second copy of the app (a test) has its own.
    folder = settings.database_path.parent / "broker"
    for name in ("messages", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "messages"),
        "data_folder_out": str(folder / "messages"),
        "control_folder": str(folder / "control"),
        "polling_interval": 0.05,
    }
