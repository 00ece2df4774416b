"""The scale-out backplane: Redis pub/sub carries frames between instances, Redis sets and
lists hold presence and history so every instance sees the same room."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .backplane import Deliver, Kind, cut_history, decode, encode

log = logging.getLogger(__name__)

# How long a join waits for its own marker to come back through Redis.
CATCH_UP_TIMEOUT = 5.0


class RedisBackplane:
    name = "redis"

    def __init__(self, url: str, namespace: str, history_size: int) -> None:
        self.ns = namespace
        self.history_size = history_size
        self.channel = f"{namespace}:events"
        # This instance's own channel, on the same subscriber connection as the shared one:
        # Redis delivers to one subscriber in publish order, so a marker sent here comes back
        # after every frame published before it (see caught_up).
        self.inbox = f"{namespace}:instance:{uuid.uuid4().hex}"
        self._markers: dict[str, asyncio.Future[None]] = {}
        # A client name makes our connections easy to find in CLIENT LIST (ops and tests).
        self._client = redis.Redis.from_url(
            url, decode_responses=True, client_name=f"{namespace}-backplane"
        )
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, deliver: Deliver) -> None:
        await self._client.ping()  # fail at startup, not on the first chat message
        self._listener = asyncio.create_task(self._listen(deliver), name="redis-listener")
        self._listener.add_done_callback(_report_stop)
        # Frames published before SUBSCRIBE is acknowledged would be lost for this instance.
        await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    def healthy(self) -> bool:
        """Subscribed and listening. While it is not, this instance delivers nothing from
        other instances, so /health must say so (a load balancer then routes around it)."""
        listening = self._listener is not None and not self._listener.done()
        return listening and self._subscribed.is_set()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            # asyncio.wait: a listener that already died has been logged; don't raise it again.
            await asyncio.wait([self._listener])
        await self._client.aclose()

    async def _listen(self, deliver: Deliver) -> None:
        backoff = 0.1
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel, self.inbox)
                self._subscribed.set()
                backoff = 0.1
                async for message in pubsub.listen():
                    if message["channel"] == self.inbox:
                        self._marker_back(message["data"])
                    else:
                        self._dispatch(deliver, message["data"])
            except Exception as exc:
                # Any failure, not only a lost connection (a protocol error, a bug in a
                # handler...): a listener that stopped would leave this instance deaf while it
                # still accepts clients. Pub/sub is at-most-once: frames published while we
                # are away are gone. Say so loudly instead of pretending nothing happened.
                self._subscribed.clear()
                expected = isinstance(exc, (RedisConnectionError, RedisTimeoutError))
                log.error(
                    "lost Redis subscription (%s: %s); reconnecting in %.1fs",
                    type(exc).__name__,
                    exc,
                    backoff,
                    exc_info=None if expected else exc,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _dispatch(self, deliver: Deliver, data: str) -> None:
        try:
            kind, target, frame = decode(data)
        except ValueError:
            log.error("dropped malformed envelope from %s: %.80r", self.channel, data)
            return
        try:
            deliver(kind, target, frame)
        except Exception:
            # A bug in delivery must not kill the listener (and with it every room).
            log.exception("delivery of a %s frame to %r failed", kind, target)

    async def publish(self, kind: Kind, target: str, frame: str) -> None:
        await self._client.publish(self.channel, encode(kind, target, frame))

    async def publish_message(self, room: str, frame: str) -> None:
        key = f"{self.ns}:history:{room}"
        # MULTI/EXEC: the append and the PUBLISH happen at one point in Redis's timeline, so a
        # history read sees a message exactly when its frame is already on its way (one round
        # trip, too, instead of two).
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, frame)
            # One more than the snapshot returns: its presence says the snapshot is truncated.
            pipe.ltrim(key, -(self.history_size + 1), -1)
            pipe.publish(self.channel, encode("room", room, frame))
            await pipe.execute()

    async def caught_up(self) -> None:
        # Frames reach this instance over the subscriber connection, which may lag behind
        # the command connection that just read the history. A marker published now, after
        # the read, comes back after every frame published before it.
        marker = uuid.uuid4().hex
        arrived = asyncio.get_running_loop().create_future()
        self._markers[marker] = arrived
        try:
            if not await self._client.publish(self.inbox, marker):
                raise RedisConnectionError("not subscribed; frames do not reach this instance")
            await asyncio.wait_for(arrived, CATCH_UP_TIMEOUT)
        finally:
            del self._markers[marker]

    def _marker_back(self, marker: str) -> None:
        arrived = self._markers.get(marker)
        if arrived is not None and not arrived.done():
            arrived.set_result(None)

    def _room_key(self, room: str) -> str:
        return f"{self.ns}:room:{room}"

    async def add_member(self, room: str, member: str) -> list[str]:
        # MULTI/EXEC so the member list we return includes exactly our own change.
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.sadd(self._room_key(room), member)
            pipe.smembers(self._room_key(room))
            _, members = await pipe.execute()
        return list(members)

    async def remove_member(self, room: str, member: str) -> list[str]:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.srem(self._room_key(room), member)
            pipe.smembers(self._room_key(room))
            _, members = await pipe.execute()
        return list(members)

    async def set_online(self, user: str, conn_id: str, online: bool) -> None:
        key = f"{self.ns}:online:{user}"
        if online:
            await self._client.sadd(key, conn_id)
        else:
            await self._client.srem(key, conn_id)

    async def is_online(self, user: str) -> bool:
        return bool(await self._client.scard(f"{self.ns}:online:{user}"))

    async def history(self, room: str) -> tuple[list[str], bool]:
        # decode_responses=True: redis-py hands back str, never bytes.
        frames = await self._client.lrange(f"{self.ns}:history:{room}", 0, -1)
        return cut_history(frames, self.history_size)


def _report_stop(task: asyncio.Task[None]) -> None:
    # The loop above only ends by cancellation (shutdown); anything else is a bug, and
    # /health already reports it, but the log must say why.
    if not task.cancelled() and task.exception() is not None:
        log.error(
            "Redis listener stopped; this instance no longer delivers", exc_info=task.exception()
        )
