"""The tables: users, roles and permissions (RBAC), recovery codes, orders (the objects the
permissions guard), OAuth2 authorization codes, and sessions when there is no Redis.

Times are unix seconds in float/integer columns: the same on SQLite and PostgreSQL, compared
in SQL without time-zone conversions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    CursorResult,
    Engine,
    Float,
    ForeignKey,
    Integer,
    Result,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)


class Base(DeclarativeBase):
    pass


role_permissions = Table(
    "role_permissions",
    Base.metadata,
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True),
)
user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Permission(Base):
    __tablename__ = "permissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # "orders:write"


class Role(Base):
    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    permissions: Mapped[list[Permission]] = relationship(secondary=role_permissions)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # The TOTP secret (base32). Production keeps it encrypted with a key outside the
    # database; it is a shared secret, so it cannot be hashed like a password.
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last accepted TOTP time step: a code of that step or an older one is a replay.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    roles: Mapped[list[Role]] = relationship(secondary=user_roles)


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)


class AuthCode(Base):
    """An OAuth2 authorization code; only its SHA-256 is stored."""

    __tablename__ = "auth_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(512))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_challenge: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[float] = mapped_column(Float)
    # Set by the one exchange that spends the code; a second exchange is a replay.
    used_at: Mapped[float | None] = mapped_column(Float, default=None)
    # The token that exchange issued, revoked if the code is ever presented again.
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class SessionRow(Base):
    """A server-side session (or opaque bearer token) when REDIS_URL is not set."""

    __tablename__ = "sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    seen_at: Mapped[float] = mapped_column(Float)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (typed: ``Session.execute`` returns a plain Result)."""
    return cast("CursorResult[Any]", result).rowcount


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = url.split("///", 1)[1]
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        # timeout: how long a writer waits for another writer's lock before SQLITE_BUSY.
        engine = create_engine(url, connect_args={"timeout": 15})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _sqlite_setup(engine: Engine) -> None:
    """Foreign keys on (SQLite leaves them off), and BEGIN IMMEDIATE so two read-then-write
    transactions queue for the write lock instead of one failing with 'database is locked'."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # sqlite3 stops issuing its own BEGIN
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
