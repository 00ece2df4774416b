"""Server-side sessions: the browser holds a random id, the server holds everything else.

The store keeps only the SHA-256 of each id, so a dump of Redis or of the table holds no
usable session. A session ends at the first of: logout, "log out all devices", the idle
timeout (no request for ``idle_s``) or the absolute timeout (``absolute_s`` after login,
however active). Opaque bearer tokens from /token are sessions of kind "bearer".
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import redis.asyncio as aioredis
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from auth.db import SessionRow, rowcount

Kind = Literal["anonymous", "cookie", "bearer"]


@dataclass
class Session:
    id_hash: str
    user_id: int | None  # None: a visitor before login (it carries the login form's CSRF token)
    kind: Kind
    csrf: str
    created_at: float
    seen_at: float


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_id() -> str:
    return secrets.token_urlsafe(32)  # 256 bits: guessing one is not an option


class SessionStore(Protocol):
    idle_s: int
    absolute_s: int

    async def save(self, session: Session) -> None: ...
    async def load(self, hashed: str) -> Session | None: ...
    async def delete(self, hashed: str) -> None: ...
    async def delete_user(self, user_id: int) -> int: ...
    async def aclose(self) -> None: ...


class Sessions:
    """The rules (ids, timeouts, rotation), on top of a store that only keeps records."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    async def start(self, user_id: int | None, kind: Kind, now: float) -> tuple[str, Session]:
        session_id = new_id()
        session = Session(id_hash(session_id), user_id, kind, secrets.token_urlsafe(24), now, now)
        await self.store.save(session)
        return session_id, session

    async def get(self, session_id: str, now: float) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        session = await self.store.load(id_hash(session_id))
        if session is None:
            return None
        idle = session.seen_at + self.store.idle_s <= now
        too_old = session.created_at + self.store.absolute_s <= now
        if idle or too_old:
            await self.store.delete(session.id_hash)
            return None
        # Sliding idle timeout (the absolute one never moves). Written back only when it moved
        # by a noticeable step: a store write on every request would cost more than the rest
        # of the request, and the idle timeout loses at most that step of precision.
        if now - session.seen_at >= min(60.0, self.store.idle_s / 10):
            session.seen_at = now
            await self.store.save(session)
        return session

    async def rotate(self, old_id: str | None, user_id: int, kind: Kind, now: float) -> str:
        """Login: whatever id the browser came with is destroyed and a new one issued, so an
        id an attacker planted before login (session fixation) is worth nothing after it."""
        if old_id:
            await self.store.delete(id_hash(old_id))
        new, _ = await self.start(user_id, kind, now)
        return new

    async def end(self, session_id: str) -> None:
        await self.store.delete(id_hash(session_id))

    async def end_all(self, user_id: int) -> int:
        return await self.store.delete_user(user_id)


class RedisSessionStore:
    """A hash per session with a TTL, and a set per user naming their sessions."""

    def __init__(self, client: aioredis.Redis, prefix: str, idle_s: int, absolute_s: int) -> None:
        self.client, self.prefix = client, prefix
        self.idle_s, self.absolute_s = idle_s, absolute_s

    def _key(self, hashed: str) -> str:
        return f"{self.prefix}session:{hashed}"

    def _user_key(self, user_id: int) -> str:
        return f"{self.prefix}user-sessions:{user_id}"

    async def save(self, s: Session) -> None:
        # Redis forgets the record by itself at whichever timeout comes first.
        ttl = max(1, int(min(s.seen_at + self.idle_s, s.created_at + self.absolute_s) - s.seen_at))
        fields = {
            "user_id": "" if s.user_id is None else str(s.user_id),
            "kind": s.kind,
            "csrf": s.csrf,
            "created_at": repr(s.created_at),
            "seen_at": repr(s.seen_at),
        }
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(s.id_hash), mapping=cast(Any, fields))
            pipe.expire(self._key(s.id_hash), ttl)
            if s.user_id is not None:
                pipe.sadd(self._user_key(s.user_id), s.id_hash)
                pipe.expire(self._user_key(s.user_id), self.absolute_s)
            await pipe.execute()

    async def load(self, hashed: str) -> Session | None:
        raw = await self.client.hgetall(self._key(hashed))
        if not raw:
            return None
        f = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
             for k, v in raw.items()}  # fmt: skip
        user = int(f["user_id"]) if f.get("user_id") else None
        return Session(
            hashed,
            user,
            cast(Kind, f["kind"]),
            f["csrf"],
            float(f["created_at"]),
            float(f["seen_at"]),
        )

    async def delete(self, hashed: str) -> None:
        session = await self.load(hashed)
        await self.client.delete(self._key(hashed))
        if session and session.user_id is not None:
            await self.client.srem(self._user_key(session.user_id), hashed)

    async def delete_user(self, user_id: int) -> int:
        members = await self.client.smembers(self._user_key(user_id))
        keys = [self._key(m.decode() if isinstance(m, bytes) else m) for m in members]
        ended = await self.client.delete(*keys) if keys else 0
        await self.client.delete(self._user_key(user_id))
        return int(ended)

    async def aclose(self) -> None:
        pass  # the client belongs to whoever made it


class SqlSessionStore:
    """The same records in a table (SQLite file by default), for a setup without Redis.
    Expired rows are deleted when read; ``purge`` sweeps the ones nobody reads again."""

    def __init__(self, sessions: sessionmaker[DbSession], idle_s: int, absolute_s: int) -> None:
        self.sessions, self.idle_s, self.absolute_s = sessions, idle_s, absolute_s

    def _save(self, s: Session) -> None:
        with self.sessions.begin() as db:
            db.merge(SessionRow(id_hash=s.id_hash, user_id=s.user_id, kind=s.kind, csrf=s.csrf,
                                created_at=s.created_at, seen_at=s.seen_at))  # fmt: skip

    def _load(self, hashed: str) -> Session | None:
        with self.sessions() as db:
            row = db.get(SessionRow, hashed)
            if row is None:
                return None
            kind = cast(Kind, row.kind)
            return Session(row.id_hash, row.user_id, kind, row.csrf, row.created_at, row.seen_at)

    def _delete(self, hashed: str) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(SessionRow).where(SessionRow.id_hash == hashed))

    def _delete_user(self, user_id: int) -> int:
        with self.sessions.begin() as db:
            result = db.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
            return rowcount(result)

    def purge(self, now: float) -> int:
        with self.sessions.begin() as db:
            stale = select(SessionRow.id_hash).where(
                (SessionRow.seen_at <= now - self.idle_s)
                | (SessionRow.created_at <= now - self.absolute_s)
            )
            return rowcount(db.execute(delete(SessionRow).where(SessionRow.id_hash.in_(stale))))

    async def save(self, session: Session) -> None:
        await asyncio.to_thread(self._save, session)

    async def load(self, hashed: str) -> Session | None:
        return await asyncio.to_thread(self._load, hashed)

    async def delete(self, hashed: str) -> None:
        await asyncio.to_thread(self._delete, hashed)

    async def delete_user(self, user_id: int) -> int:
        return await asyncio.to_thread(self._delete_user, user_id)

    async def aclose(self) -> None:
        pass
