"""The upload pipeline: checksum -> metadata -> thumbnail or word count -> finish.

Each step takes the upload's id (a string, JSON on the wire) and returns it, so the steps chain.
A task reads what it needs from the database when it runs: an ORM object sent as an argument
would be a stale copy by then.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from celery import Celery, Task, chain, shared_task
from celery.utils.log import get_task_logger
from PIL import Image, UnidentifiedImageError
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from uploads.store import Upload, count_uploads, do_once, get_upload, make_engine, record_run
from uploads.store import update_upload as update

log = get_task_logger(__name__)
THUMB_SIZE = (128, 128)


class TransientError(Exception):
    """Worth retrying: a timeout, a connection reset, a 503 from a storage service."""


@cache
def engine_for(url: str) -> Engine:
    # One engine per worker process, made on first use: after the fork, never before it.
    return make_engine(url)


class Step(Task):
    """Base of every task here: its database, its retry policy, and what a failure does."""

    # Only errors that a later try can fix are retried; a corrupt image fails the same way
    # every time, so retrying it would only delay the answer.
    autoretry_for = (TransientError, OperationalError)
    retry_backoff = 1  # seconds: 1, 2, 4, 8 ... (times a random 0-1 when jitter is on)
    retry_backoff_max = 60

    @property
    def retry_jitter(self) -> bool:  # type: ignore[override]
        return bool(self.app.conf.get("uploads_retry_jitter", True))

    @property
    def max_retries(self) -> int:  # type: ignore[override]
        return int(self.app.conf.get("uploads_retry_max", 5))

    @property
    def db(self) -> Engine:
        return engine_for(self.app.conf.uploads_database_url)

    def note_run(self, key: str) -> None:
        """One row per delivery: which worker, which try, and whether the broker redelivered."""
        delivery = self.request.delivery_info or {}
        record_run(
            self.db, task=self.name, key=key, queue=delivery.get("routing_key"),
            hostname=self.request.hostname, pid=os.getpid(), retries=self.request.retries,
            redelivered=bool(delivery.get("redelivered")), eta=self.request.eta,
        )  # fmt: skip

    def progress(self, upload_id: str, step: str, percent: int) -> None:
        """A custom state: the result backend says PROGRESS, the uploads table says where."""
        update(self.db, upload_id, state="processing", step=step, progress=percent)
        self.update_state(state="PROGRESS", meta={"upload_id": upload_id, "step": step,
                                                  "progress": percent})  # fmt: skip

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                   einfo: Any) -> None:  # fmt: skip
        # Called once, after the last try: a user sees `failed` and why, not `processing`.
        if self.name.startswith("uploads.") and args and get_upload(self.db, str(args[0])):
            message = f"{self.name.removeprefix('uploads.')}: {type(exc).__name__}: {exc}"
            update(self.db, str(args[0]), state="failed", error=message[:500])


@shared_task(bind=True, base=Step, name="uploads.checksum")
def checksum(self: Step, upload_id: str) -> str:
    self.note_run(upload_id)
    self.progress(upload_id, "checksum", 10)
    upload = get_upload(self.db, upload_id)
    assert upload is not None, upload_id
    digest = hashlib.sha256()
    with open(upload.path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    update(self.db, upload_id, checksum=digest.hexdigest(), progress=25)
    return upload_id


@shared_task(bind=True, base=Step, name="uploads.metadata")
def metadata(self: Step, upload_id: str) -> str:
    self.note_run(upload_id)
    self.progress(upload_id, "metadata", 40)
    upload = get_upload(self.db, upload_id)
    assert upload is not None, upload_id
    info: dict[str, Any] = {}
    if upload.kind == "image":
        with Image.open(upload.path) as image:  # reads the header only
            info = {"format": image.format, "width": image.width, "height": image.height,
                    "mode": image.mode}  # fmt: skip
    else:
        text = Path(upload.path).read_text(encoding="utf-8")
        info = {"lines": text.count("\n") + (not text.endswith("\n")), "chars": len(text)}
    update(self.db, upload_id, info=info, progress=50)
    return upload_id


@shared_task(bind=True, base=Step, name="uploads.thumbnail")
def thumbnail(self: Step, upload_id: str, thumbs_dir: str) -> str:
    self.note_run(upload_id)
    self.progress(upload_id, "thumbnail", 60)
    upload = get_upload(self.db, upload_id)
    assert upload is not None, upload_id
    target = Path(thumbs_dir) / f"{upload_id}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with Image.open(upload.path) as image:
            image.thumbnail(THUMB_SIZE)  # decodes the whole image: this is the CPU work
            # Write then rename: a redelivered task overwrites a whole file, never half of one.
            partial = target.with_suffix(".part")
            image.save(partial, format="PNG")
    except (UnidentifiedImageError, OSError) as exc:
        # A truncated or corrupt file: permanent, so not one of autoretry_for.
        raise ValueError(f"not a readable image ({exc})") from None
    partial.replace(target)
    update(self.db, upload_id, info={**upload.info, "thumbnail": str(target)}, progress=85)
    return upload_id


@shared_task(bind=True, base=Step, name="uploads.word_count")
def word_count(self: Step, upload_id: str) -> str:
    self.note_run(upload_id)
    self.progress(upload_id, "word_count", 60)
    upload = get_upload(self.db, upload_id)
    assert upload is not None, upload_id
    words = len(Path(upload.path).read_text(encoding="utf-8").split())
    update(self.db, upload_id, info={**upload.info, "words": words}, progress=85)
    return upload_id


@shared_task(bind=True, base=Step, name="uploads.finish")
def finish(self: Step, upload_id: str) -> dict[str, Any]:
    self.note_run(upload_id)
    # The side effect (here: the "your file is ready" notice) is keyed by the upload, so a
    # retried or redelivered finish sends it once.
    sent = do_once(self.db, f"notify:{upload_id}", "file ready", upload_id=upload_id)
    update(self.db, upload_id, state="done", step=None, progress=100)
    upload = get_upload(self.db, upload_id)
    assert upload is not None, upload_id
    return {"upload_id": upload_id, "checksum": upload.checksum, "info": upload.info,
            "notified_now": sent}  # fmt: skip


def pipeline(app: Celery, upload_id: str, kind: str, thumbs_dir: str) -> chain:
    """The steps as one chain: each step's return value is the next one's first argument.

    Signatures by name on an explicit app: `checksum.s()` would use Celery's *current* app,
    which is per thread, and a web server's worker thread would get the default one.
    """
    step = app.signature
    last = (
        step("uploads.thumbnail", (thumbs_dir,)) if kind == "image" else step("uploads.word_count")
    )
    return chain(step("uploads.checksum", (upload_id,)), step("uploads.metadata"), last,
                 step("uploads.finish"))  # fmt: skip


# --- beat's tasks --------------------------------------------------------------------------


@shared_task(bind=True, base=Step, name="uploads.report_stats", ignore_result=True)
def report_stats(self: Step) -> dict[str, int]:
    # ignore_result: beat fires this every minute and nobody reads the return value, so it
    # costs no write to the result backend. The run itself is recorded for the tests.
    self.note_run("report_stats")
    counts = count_uploads(self.db)
    log.info("uploads by state: %s", counts)
    return counts


@shared_task(bind=True, base=Step, name="uploads.cleanup")
def cleanup(self: Step) -> int:
    """Nightly: delete uploads (rows and files) older than KEEP_DAYS."""
    self.note_run("cleanup")
    cutoff = datetime.now(UTC) - timedelta(days=int(self.app.conf.uploads_keep_days))
    with Session(self.db) as session, session.begin():
        old = list(session.scalars(select(Upload).where(Upload.created_at < cutoff)))
        for upload in old:
            Path(upload.path).unlink(missing_ok=True)
        session.execute(delete(Upload).where(Upload.id.in_([u.id for u in old])))
    return len(old)
