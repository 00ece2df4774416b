"""What the hub needs from a broker, whether it lives in this process or in Redis.

The hub never sends a chat frame straight to its own sockets. It *publishes* the frame, and
every instance (this one included) receives it from the backplane and delivers it to the
sockets it holds. One code path for one instance or ten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

Kind = Literal["room", "user"]
# Called for every published frame: (kind, target room or user, serialised frame).
Deliver = Callable[[Kind, str, str], None]


class Backplane(Protocol):
    name: str

    async def start(self, deliver: Deliver) -> None:
        """Begin receiving published frames and hand each one to `deliver`."""

    async def close(self) -> None:
        """Stop receiving and release connections."""

    def healthy(self) -> bool:
        """Whether frames published anywhere currently reach this instance."""

    async def publish(self, kind: Kind, target: str, frame: str) -> None:
        """Send a serialised frame to every instance (this one included)."""

    async def publish_message(self, room: str, frame: str) -> None:
        """Keep a message frame in the room's bounded history and publish it to the room, as
        one step: a message is in the history if and only if it has been published."""

    async def caught_up(self) -> None:
        """Return once every frame published before this call has been handed to `deliver`
        on this instance (a join waits for it, so its snapshot and live frames meet)."""

    # Presence: a member is "user|connection-id", so two tabs of one user are two members.
    async def add_member(self, room: str, member: str) -> list[str]:
        """Add a member to a room; return the room's members afterwards."""

    async def remove_member(self, room: str, member: str) -> list[str]:
        """Remove a member from a room; return the room's members afterwards."""

    async def set_online(self, user: str, conn_id: str, online: bool) -> None:
        """Record that one connection of `user` opened (True) or closed (False)."""

    async def is_online(self, user: str) -> bool:
        """Whether `user` has at least one open connection on any instance."""

    async def history(self, room: str) -> tuple[list[str], bool]:
        """The room's most recent message frames, oldest first, and whether older ones exist."""


def member(user: str, conn_id: str) -> str:
    return f"{user}|{conn_id}"


def users_of(members: set[str] | list[str]) -> list[str]:
    """Distinct user names, sorted, from a set of members."""
    return sorted({m.split("|", 1)[0] for m in members})


def cut_history(kept: list[str], size: int) -> tuple[list[str], bool]:
    """A backplane keeps `size + 1` frames: the extra one only proves the room said more than
    the snapshot holds, so a client can tell "nothing older" from "older messages exist"."""
    if len(kept) > size:
        return kept[len(kept) - size :], True
    return kept, False


def encode(kind: Kind, target: str, frame: str) -> str:
    # A one-line header instead of wrapping the frame in another JSON object: the receiving
    # instance forwards `frame` to its sockets as-is, without parsing it again.
    return f"{kind}:{target}\n{frame}"


def decode(data: str) -> tuple[Kind, str, str]:
    header, frame = data.split("\n", 1)
    kind, target = header.split(":", 1)
    if kind not in ("room", "user"):
        raise ValueError(f"unknown envelope kind {kind!r}")
    return kind, target, frame  # type: ignore[return-value]
