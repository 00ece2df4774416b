"""The embedded backplane: dictionaries and deques in this process. One instance only."""

from __future__ import annotations

from collections import defaultdict, deque

from .backplane import Deliver, Kind, cut_history


class MemoryBackplane:
    name = "memory"

    def __init__(self, history_size: int) -> None:
        self._deliver: Deliver | None = None
        self._rooms: defaultdict[str, set[str]] = defaultdict(set)
        self._online: defaultdict[str, set[str]] = defaultdict(set)
        self.history_size = history_size
        # One frame more than we return: if it is there, the snapshot is truncated.
        self._history: defaultdict[str, deque[str]] = defaultdict(
            lambda: deque(maxlen=history_size + 1)
        )

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._deliver = None

    def healthy(self) -> bool:
        return self._deliver is not None

    async def publish(self, kind: Kind, target: str, frame: str) -> None:
        # Delivery only enqueues onto bounded per-socket queues, so calling it inline is safe:
        # it never waits on a client.
        if self._deliver is None:
            raise RuntimeError("backplane is not started")
        self._deliver(kind, target, frame)

    async def publish_message(self, room: str, frame: str) -> None:
        self._history[room].append(frame)
        await self.publish("room", room, frame)

    async def caught_up(self) -> None:
        pass  # publish() delivers before it returns: nothing is ever in flight

    async def add_member(self, room: str, member: str) -> list[str]:
        self._rooms[room].add(member)
        return list(self._rooms[room])

    async def remove_member(self, room: str, member: str) -> list[str]:
        members = self._rooms.get(room, set())
        members.discard(member)
        if not members:
            self._rooms.pop(room, None)
        return list(members)

    async def set_online(self, user: str, conn_id: str, online: bool) -> None:
        if online:
            self._online[user].add(conn_id)
        else:
            self._online[user].discard(conn_id)
            if not self._online[user]:
                del self._online[user]

    async def is_online(self, user: str) -> bool:
        return bool(self._online.get(user))

    async def history(self, room: str) -> tuple[list[str], bool]:
        return cut_history(list(self._history.get(room, ())), self.history_size)
