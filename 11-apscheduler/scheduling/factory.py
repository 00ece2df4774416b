"""One place that builds a scheduler: its job store, executors and job defaults.

The three scheduler classes differ only in who owns the loop:
- BackgroundScheduler runs in its own thread: scripts and sync web apps.
- AsyncIOScheduler runs on the application's event loop: FastAPI (see api.py).
- BlockingScheduler *is* the program: start() never returns (a dedicated scheduler process).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from apscheduler.executors.pool import ProcessPoolExecutor, ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, create_engine

from scheduling.settings import Settings

Kind = Literal["background", "asyncio", "blocking"]
KINDS: dict[str, type[BaseScheduler]] = {
    "background": BackgroundScheduler,
    "asyncio": AsyncIOScheduler,
    "blocking": BlockingScheduler,
}
JOBS_TABLE = "apscheduler_jobs"


def make_engine(settings: Settings) -> Engine:
    url = settings.url
    if url.drivername == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)  # var/ on a fresh clone
    # pool_pre_ping: a store connection idle overnight may have been closed by the server.
    return create_engine(url, pool_pre_ping=True)


def build_scheduler(
    settings: Settings,
    kind: Kind = "background",
    *,
    engine: Engine | None = None,
    store: BaseJobStore | None = None,
) -> BaseScheduler:
    """A scheduler whose jobs live in the database (or in `store`, e.g. a MemoryJobStore)."""
    if store is None:
        # The store pickles each job (its function by reference "module:function", its args),
        # so a job added by one process can be loaded and run by the next one.
        store = SQLAlchemyJobStore(engine=engine or make_engine(settings), tablename=JOBS_TABLE)
    return KINDS[kind](
        jobstores={"default": store},
        executors={
            # Threads suit I/O-bound jobs: they share one interpreter (and its GIL).
            "default": ThreadPoolExecutor(settings.scheduler_threads),
            # Processes suit CPU-bound jobs: a long computation cannot starve the others.
            "processpool": ProcessPoolExecutor(2),
        },
        job_defaults={
            "coalesce": settings.coalesce,
            "max_instances": settings.max_instances,
            "misfire_grace_time": settings.misfire_grace_time,
        },
        timezone=settings.zone,
    )


def memory_store() -> MemoryJobStore:
    """Jobs kept in the process only: gone at exit (what the bench compares against)."""
    return MemoryJobStore()
