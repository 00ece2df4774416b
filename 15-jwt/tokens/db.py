"""The refresh-token tables and the engine (SQLite file by default, PostgreSQL via DATABASE_URL).

Times are unix seconds in integer columns: the same on SQLite (which has no time type of its
own) and PostgreSQL, and compared in SQL without any time-zone conversion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Engine, ForeignKey, String, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Family(Base):
    """One login: every refresh token descended from it by rotation shares the family."""

    __tablename__ = "refresh_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[int] = mapped_column(BigInteger)
    rotated_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(32), default=None)


class RefreshToken(Base):
    """Only the SHA-256 of the token is stored: a leaked table holds nothing usable."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("refresh_families.id"), index=True)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    # Set once, by the one request that rotates this token; a second use is a replay.
    used_at: Mapped[int | None] = mapped_column(BigInteger, default=None)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # timeout: how long a writer waits for another writer's lock before SQLITE_BUSY.
        engine = create_engine(url, connect_args={"timeout": 15})
        _sqlite_begin_immediate(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _sqlite_begin_immediate(engine: Engine) -> None:
    """Take SQLite's write lock at BEGIN, not at the first write.

    With the default deferred BEGIN, two transactions that both read and then write can both
    hold a read lock; the second to write then fails with 'database is locked' at once instead
    of waiting. BEGIN IMMEDIATE makes every transaction here a writer from its first
    statement, so they queue one after the other (SQLAlchemy's documented recipe)."""

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # sqlite3 stops issuing its own BEGIN

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
