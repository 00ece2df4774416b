"""The web app: store an upload, hand its processing to Celery, report its progress.

The request does only what must happen before the user gets an answer (check and store the
file, record it, enqueue one message). Everything slow runs on a worker.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from celery import Celery
from fastapi import Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError as BrokerError
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from uploads.bodylimit import BodyLimit
from uploads.celery_app import make_celery
from uploads.settings import Settings
from uploads.store import Upload, get_upload, make_engine, update_upload
from uploads.tasks import pipeline

# What a file must start with to be the type it claims; the header alone is not trusted.
MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "text/plain": ".txt"}


class Accepted(BaseModel):
    id: str
    state: str
    url: str


class UploadView(BaseModel):
    id: str
    filename: str
    kind: str
    size: int
    state: str
    step: str | None
    progress: int
    checksum: str | None
    info: dict[str, Any]
    error: str | None


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def engine(request: Request) -> Engine:
    return request.app.state.engine


def celery_app(request: Request) -> Celery:
    return request.app.state.celery


Db = Annotated[Engine, Depends(engine)]
Queue = Annotated[Celery, Depends(celery_app)]


def create_app(settings: Settings, celery: Celery | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.upload_dir.mkdir(parents=True, exist_ok=True)
        app.state.engine = make_engine(settings.database_url)
        app.state.celery = celery or make_celery(settings)
        yield
        app.state.engine.dispose()

    app = FastAPI(title="uploads", lifespan=lifespan)
    # Multipart framing adds a little to the file; the cap is checked again on the file itself.
    app.add_middleware(BodyLimit, max_bytes=settings.upload_max_bytes + 16_384)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code, _, message = str(exc.detail).partition(": ")
        return error(exc.status_code, code, message or code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return error(422, "invalid_request", f"{where}: {first['msg']}")

    @app.post("/uploads", status_code=202, response_model=Accepted)
    def create_upload(file: Annotated[UploadFile, File()], db: Db, queue: Queue) -> Accepted:
        data = file.file.read(settings.upload_max_bytes + 1)
        kind = check_upload(file.content_type or "", data, settings.upload_max_bytes)
        upload_id = uuid.uuid4().hex
        path = settings.upload_dir / f"{upload_id}{SUFFIX[file.content_type or '']}"
        path.write_bytes(data)
        with Session(db) as session, session.begin():
            session.add(Upload(id=upload_id, filename=(file.filename or "upload")[:255],
                               kind=kind, size=len(data), path=str(path)))  # fmt: skip
        # The message carries the id only; the worker reads the row when it runs.
        work = pipeline(queue, upload_id, kind, str(settings.upload_dir / "thumbs"))
        try:
            result = work.apply_async(retry_policy={"max_retries": 2, "interval_start": 0.2})
        except BrokerError:
            update_upload(db, upload_id, state="failed", error="could not be queued")
            raise HTTPException(503, "broker_unavailable: try again shortly") from None
        update_upload(db, upload_id, task_id=result.id)
        return Accepted(id=upload_id, state="queued", url=f"/uploads/{upload_id}")

    @app.get("/uploads/{upload_id}", response_model=UploadView)
    def read_upload(upload_id: str, db: Db) -> UploadView:
        if len(upload_id) != 32 or not all(c in "0123456789abcdef" for c in upload_id):
            raise HTTPException(422, "invalid_id: an upload id is 32 hex characters")
        upload = get_upload(db, upload_id)
        if upload is None:
            raise HTTPException(404, f"not_found: no upload {upload_id}")
        return UploadView.model_validate(upload, from_attributes=True)

    return app


def check_upload(content_type: str, data: bytes, max_bytes: int) -> str:
    """The upload's kind (image or text), or an HTTPException saying what is wrong with it."""
    if not data:
        raise HTTPException(400, "empty_file: the file has no content")
    if len(data) > max_bytes:
        raise HTTPException(413, f"too_large: the limit is {max_bytes} bytes")
    if content_type not in SUFFIX:
        allowed = ", ".join(SUFFIX)
        raise HTTPException(415, f"unsupported_type: {content_type or 'none'}; send {allowed}")
    if content_type in MAGIC:
        if not data.startswith(MAGIC[content_type]):
            raise HTTPException(415, f"unsupported_type: the content is not {content_type}")
        return "image"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(415, "unsupported_type: text must be UTF-8") from None
    return "text"
