"""The connection manager (observer pattern): connections subscribe to rooms, and every frame
published to a room is pushed to the connections subscribed to it on this instance."""

from __future__ import annotations

import json
import logging
from collections import defaultdict

from .backplane import Backplane, Kind, member, users_of
from .connection import TRY_AGAIN_LATER, Connection
from .protocol import (
    Direct,
    Error,
    History,
    Join,
    Leave,
    Message,
    Pong,
    Presence,
    Say,
    Whisper,
    parse_client_frame,
)

log = logging.getLogger(__name__)


class Hub:
    def __init__(self, backplane: Backplane, max_rooms: int) -> None:
        self.backplane = backplane
        self.max_rooms = max_rooms
        # Local subscriptions only: which sockets *this* instance must write to.
        self.rooms: defaultdict[str, set[Connection]] = defaultdict(set)
        # Connections between "join" and their snapshot: the room's live frames wait here.
        self.joining: defaultdict[str, dict[Connection, list[str]]] = defaultdict(dict)
        self.users: defaultdict[str, set[Connection]] = defaultdict(set)
        self.connections: set[Connection] = set()
        self.slow_disconnects = 0

    async def start(self) -> None:
        await self.backplane.start(self.deliver)

    async def close(self) -> None:
        await self.backplane.close()

    # --- lifecycle ----------------------------------------------------------------------

    async def connect(self, conn: Connection) -> None:
        """Register a connection; if the broker refuses, forget it again and raise."""
        # Local first, so a direct message published while the broker answers is not missed.
        self.connections.add(conn)
        self.users[conn.user].add(conn)
        try:
            await self.backplane.set_online(conn.user, conn.id, True)
        except BaseException:
            # Nothing may outlive a failed connect: /health would count a ghost, and direct
            # messages would queue into an outbox nobody drains.
            self.connections.discard(conn)
            _discard(self.users, conn.user, conn)
            raise

    async def disconnect(self, conn: Connection, reason: str) -> None:
        """Forget a connection and tell its rooms. Safe to call twice.

        Runs on every way out, also when the broker is what failed (Redis down): a broker error
        here is logged, never raised, so this instance forgets the socket in every room and the
        endpoint can still send its close frame."""
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        _discard(self.users, conn.user, conn)
        if conn.close_code == TRY_AGAIN_LATER:
            self.slow_disconnects += 1
        for room in sorted(conn.rooms):
            try:
                await self._leave(conn, room, reason)  # forgets the local subscription first
            except Exception:
                log.exception(
                    "%r: could not announce leaving %r; shared presence is stale", conn, room
                )
        try:
            await self.backplane.set_online(conn.user, conn.id, False)
        except Exception:
            log.exception("%r: could not mark the connection offline", conn)

    # --- inbound frames -----------------------------------------------------------------

    async def handle(self, conn: Connection, text: str) -> None:
        frame = parse_client_frame(text)
        if isinstance(frame, Pong) and conn.pong_due:
            # The answer to our own ping costs nothing; liveness was recorded on arrival.
            conn.pong_due = False
            return
        # Every other frame, unsolicited pongs included, pays: a pong flood is limited too.
        what = "a malformed frame" if isinstance(frame, Error) else f"your {frame.type!r}"
        if not conn.pay(what):
            return
        match frame:
            case Join(room=room):
                await self.join(conn, room)
            case Leave(room=room):
                if room not in conn.rooms:
                    conn.send_error("not_in_room", f"you are not in {room!r}")
                else:
                    await self._leave(conn, room, "leave")
            case Say(room=room, text=body):
                await self.say(conn, room, body)
            case Whisper(to=to, text=body):
                await self.whisper(conn, to, body)
            case Pong():
                pass  # unasked for, but harmless once paid for
            case error:
                conn.send(error.model_dump_json())

    async def join(self, conn: Connection, room: str) -> None:
        if room in conn.rooms:
            conn.send_error("already_joined", f"you are already in {room!r}")
            return
        if len(conn.rooms) >= self.max_rooms:
            conn.send_error("too_many_rooms", f"leave a room first (limit {self.max_rooms})")
            return
        conn.rooms.add(room)
        # The snapshot must meet the live stream exactly: history first, then every later
        # message once. So hold the room's live frames from *before* the snapshot is read,
        # read it, wait until every frame published before the read has reached this
        # instance (with Redis they may still be on their way), then send the snapshot and
        # release the held frames, skipping those the snapshot already holds.
        held: list[str] = []
        self.joining[room][conn] = held
        me = member(conn.user, conn.id)
        members = await self.backplane.add_member(room, me)
        users = users_of(members)
        frames, truncated = await self.backplane.history(room)
        await self.backplane.caught_up()
        past = [Message.model_validate_json(f) for f in frames]
        # From here until it is in self.rooms nothing awaits: no frame can slip in between.
        snapshot = History(room=room, users=users, messages=past, truncated=truncated)
        conn.send(snapshot.model_dump_json())
        in_snapshot = {m.id for m in past}
        for frame in held:
            if _message_id(frame) not in in_snapshot:
                conn.send(frame)
        self._stop_holding(room, conn)
        self.rooms[room].add(conn)
        if not _other_tabs(members, conn.user, me):  # a second tab is not news to the room
            presence = Presence(room=room, count=len(users), joined=conn.user)
            await self.backplane.publish("room", room, presence.model_dump_json())

    async def _leave(self, conn: Connection, room: str, reason: str) -> None:
        conn.rooms.discard(room)
        _discard(self.rooms, room, conn)
        self._stop_holding(room, conn)  # a join cut short (cancelled, broker error)
        me = member(conn.user, conn.id)
        members = await self.backplane.remove_member(room, me)
        if not _other_tabs(members, conn.user, me):  # still here in another tab: no change
            count = len(users_of(members))
            presence = Presence(room=room, count=count, left=conn.user, reason=reason)
            await self.backplane.publish("room", room, presence.model_dump_json())

    def _stop_holding(self, room: str, conn: Connection) -> None:
        waiting = self.joining.get(room)
        if waiting is not None:
            waiting.pop(conn, None)
            if not waiting:
                del self.joining[room]

    async def say(self, conn: Connection, room: str, text: str) -> None:
        if room not in conn.rooms:
            conn.send_error("not_in_room", f"join {room!r} before writing to it")
            return
        # Serialised exactly once, here; every recipient on every instance gets this string.
        frame = Message(room=room, user=conn.user, text=text).model_dump_json()
        await self.backplane.publish_message(room, frame)

    async def whisper(self, conn: Connection, to: str, text: str) -> None:
        if not await self.backplane.is_online(to):
            conn.send_error("user_offline", f"{to!r} is not connected; message not delivered")
            return
        frame = Direct(user=conn.user, to=to, text=text).model_dump_json()
        await self.backplane.publish("user", to, frame)
        if to != conn.user:
            # The sender's other tabs see the conversation too.
            await self.backplane.publish("user", conn.user, frame)

    # --- outbound fan-out ---------------------------------------------------------------

    def deliver(self, kind: Kind, target: str, frame: str) -> None:
        """Called by the backplane for every published frame. Never awaits a client."""
        targets = self.rooms.get(target) if kind == "room" else self.users.get(target)
        # Plain synchronous loop: put_nowait per socket, so 1,000 recipients cost 1,000 cheap
        # appends and a client that stopped reading cannot stall it.
        for conn in targets or ():
            conn.send(frame)
        if kind == "room" and target in self.joining:
            for held in self.joining[target].values():
                held.append(frame)


def _discard(index: defaultdict[str, set[Connection]], key: str, conn: Connection) -> None:
    conns = index.get(key)
    if conns is not None:
        conns.discard(conn)
        if not conns:
            del index[key]


def _other_tabs(members: list[str], user: str, me: str) -> bool:
    return any(m != me and m.split("|", 1)[0] == user for m in members)


def _message_id(frame: str) -> str | None:
    """The id of a serialised message frame; presence frames have none."""
    value = json.loads(frame).get("id")
    return value if isinstance(value, str) else None
