"""An HTTP API over an AsyncIOScheduler: list, add, pause, resume and remove jobs, read history.

The scheduler lives on the app's event loop and starts and stops with it (lifespan). Jobs are
added by cron line and *task name*: the API never accepts a "module:function" reference from a
request, which would let any caller run any function in the process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any, Literal

from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheduling import tasks
from scheduling.factory import build_scheduler, make_engine
from scheduling.history import HistoryRecorder, history
from scheduling.settings import Settings
from scheduling.timezones import cron_trigger

log = logging.getLogger("scheduling.api")
MAX_BODY = 16 * 1024  # a job definition is a few hundred bytes
TASKS: dict[str, Callable[..., Any]] = {
    "send_report": tasks.send_report,
    "flaky": tasks.flaky,
    "tick": tasks.tick,
}


class NewJob(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", examples=["nightly-report"])
    task: Literal["send_report", "flaky", "tick"]
    cron: str = Field(max_length=200, examples=["30 2 * * *"])
    timezone: str | None = Field(default=None, examples=["Europe/London"])

    @model_validator(mode="after")
    def _valid_schedule(self) -> NewJob:
        try:
            cron_trigger(self.cron, self.timezone or "UTC")
        except (ValueError, KeyError) as exc:  # zoneinfo raises KeyError subclasses
            raise ValueError(f"invalid schedule: {exc}") from None
        return self

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value


class JobOut(BaseModel):
    id: str
    task: str
    trigger: str
    next_run_time: datetime | None  # None: paused


class RunOut(BaseModel):
    job_id: str
    outcome: str
    scheduled_at: datetime
    finished_at: datetime
    duration_s: float | None
    error: str | None


class ErrorBody(BaseModel):
    error: str
    message: str


def job_out(job: Any) -> JobOut:
    return JobOut(
        id=job.id, task=job.name, trigger=str(job.trigger), next_run_time=job.next_run_time
    )


def get_scheduler(request: Request) -> BaseScheduler:
    return request.app.state.scheduler


SchedulerDep = Annotated[BaseScheduler, Depends(get_scheduler)]


def create_app(settings: Settings) -> FastAPI:
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The SQLAlchemy job store is synchronous: its queries briefly block the loop. Fine for
        # a handful of jobs; a service with thousands would run a BackgroundScheduler instead.
        scheduler = build_scheduler(settings, "asyncio", engine=engine)
        HistoryRecorder(engine).attach(scheduler)
        scheduler.start()
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)
            engine.dispose()

    app = FastAPI(title="Scheduled jobs", lifespan=lifespan)

    app.add_middleware(BodyCap, limit=MAX_BODY)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Ours and Starlette's own (unknown route 404, wrong method 405), in one shape.
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(OperationalError)
    async def store_down(_: Request, exc: OperationalError) -> JSONResponse:
        # The job store (or the history table) is unreachable: not the client's fault, and not
        # a bare "Internal Server Error" either. The URL and the driver's text stay in the log.
        log.error("job store unreachable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return error(503, "the job store is not reachable; try again later")

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        message = str(first["msg"]).removeprefix("Value error, ")
        return error(422, f"{where}: {message}" if where else message)

    @app.get("/jobs")
    def list_jobs(scheduler: SchedulerDep) -> list[JobOut]:
        return [job_out(job) for job in scheduler.get_jobs()]

    @app.post("/jobs", status_code=status.HTTP_201_CREATED)
    def add_job(new: NewJob, scheduler: SchedulerDep) -> JobOut:
        trigger = cron_trigger(new.cron, new.timezone or settings.scheduler_timezone)
        try:
            # A stable id, and no replace_existing: adding twice is a client mistake (409).
            job = scheduler.add_job(TASKS[new.task], trigger, id=new.id, name=new.task)
        except ConflictingIdError:
            raise HTTPException(409, f"job {new.id!r} already exists") from None
        return job_out(job)

    @app.post("/jobs/{job_id}/pause")
    def pause(job_id: str, scheduler: SchedulerDep) -> JobOut:
        # A paused job stays in the store with next_run_time None: nothing comes due.
        return job_out(known(scheduler.pause_job, job_id))

    @app.post("/jobs/{job_id}/resume")
    def resume(job_id: str, scheduler: SchedulerDep) -> JobOut:
        job = known(scheduler.resume_job, job_id)
        if job is None:  # APScheduler removes a job whose trigger has no fire time left
            raise HTTPException(409, f"job {job_id!r} has no run left and was removed")
        return job_out(job)

    @app.delete("/jobs/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
    def remove(job_id: str, scheduler: SchedulerDep) -> Response:
        known(scheduler.remove_job, job_id)
        return Response(status_code=204)

    @app.get("/jobs/{job_id}/history")
    def job_history(job_id: str) -> list[RunOut]:
        # History outlives the job: a removed job's runs are still worth reading.
        return [RunOut.model_validate(run, from_attributes=True) for run in history(engine, job_id)]

    @app.get("/health")
    def health(scheduler: SchedulerDep) -> dict[str, str]:
        return {"status": "ok", "scheduler": "running" if scheduler.running else "stopped"}

    return app


def known(action: Callable[[str], Any], job_id: str) -> Any:
    """Run a scheduler call on a job id; an unknown id is a 404, not a 500."""
    try:
        return action(job_id)
    except JobLookupError:
        raise HTTPException(404, f"no job {job_id!r}") from None


class BodyCap:
    """ASGI middleware: 413 once a request body passes `limit` bytes, before it is all read.

    A declared Content-Length over the limit is refused at once; a chunked body is counted as
    it arrives, so a client cannot make the server buffer an unbounded upload.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            return await error(413, f"body over {self.limit} bytes")(scope, receive, send)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                # An HTTPException passes FastAPI's body parsing unchanged (others become 400).
                raise HTTPException(413, f"body over {self.limit} bytes")
            return message

        await self.app(scope, counted, send)


def error(code: int, message: str) -> JSONResponse:
    """Every error in one shape: {"error": "not_found", "message": "no job 'x'"}."""
    kind = HTTPStatus(code).phrase.lower().replace(" ", "_")
    return JSONResponse(ErrorBody(error=kind, message=message).model_dump(), status_code=code)
