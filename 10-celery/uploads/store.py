"""The app's own records: uploads, every task run, and the idempotency keys of side effects.

The broker is not a database: a message is gone once acknowledged, and a result expires. What
a user must be able to look up later (an upload's state, what ran where) lives here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, ForeignKey, String, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


def now() -> datetime:
    return datetime.now(UTC)


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))  # image | text
    size: Mapped[int]
    path: Mapped[str] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    step: Mapped[str | None] = mapped_column(String(32), default=None)
    progress: Mapped[int] = mapped_column(default=0)
    checksum: Mapped[str | None] = mapped_column(String(64), default=None)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    task_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Run(Base):
    """One delivery of one task: where it ran, which try, whether the broker redelivered it."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100), index=True)
    queue: Mapped[str | None] = mapped_column(String(100))
    hostname: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int]
    retries: Mapped[int] = mapped_column(default=0)
    redelivered: Mapped[bool] = mapped_column(default=False)
    eta: Mapped[str | None] = mapped_column(String(40), default=None)
    at: Mapped[datetime] = mapped_column(default=now)


class Effect(Base):
    """A side effect done, under its idempotency key. The primary key makes a second one fail."""

    __tablename__ = "effects"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    upload_id: Mapped[str | None] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"))
    detail: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=now)


def make_engine(database_url: str) -> Engine:
    # A fresh clone has no var/ yet; whichever process opens the file first makes it.
    Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _: object) -> None:
        # Several worker processes write the same file: WAL lets readers go on while one writes,
        # busy_timeout makes a writer wait for the lock instead of failing at once.
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    Base.metadata.create_all(engine)
    return engine


def do_once(engine: Engine, key: str, detail: str, upload_id: str | None = None) -> bool:
    """Record a side effect under `key`; False when it was already done (a retry, a redelivery).

    The insert and the effect's record are one transaction, so two deliveries racing each
    other cannot both win: the second one's INSERT hits the primary key.
    """
    try:
        with Session(engine) as session, session.begin():
            session.add(Effect(key=key, detail=detail, upload_id=upload_id))
    except IntegrityError:
        return False
    return True


def effects(engine: Engine, key_prefix: str) -> list[Effect]:
    with Session(engine) as session:
        query = select(Effect).where(Effect.key.startswith(key_prefix)).order_by(Effect.at)
        return list(session.scalars(query))


def runs(engine: Engine, key: str) -> list[Run]:
    with Session(engine) as session:
        return list(session.scalars(select(Run).where(Run.key == key).order_by(Run.id)))


def record_run(engine: Engine, **fields: Any) -> None:
    with Session(engine) as session, session.begin():
        session.add(Run(**fields))


def update_upload(engine: Engine, upload_id: str, **fields: Any) -> None:
    with Session(engine) as session, session.begin():
        upload = session.get(Upload, upload_id)
        if upload is None:
            raise LookupError(f"upload {upload_id} not found")
        for name, value in fields.items():
            setattr(upload, name, value)


def get_upload(engine: Engine, upload_id: str) -> Upload | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Upload, upload_id)


def count_uploads(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(select(Upload.state, func.count()).group_by(Upload.state))
        return {state: n for state, n in rows}
