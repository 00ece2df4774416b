"""The wire protocol: every frame is a JSON object whose `type` field picks its schema.

A pydantic *discriminated union* reads `type` first and validates against exactly one model,
so an unknown type and a bad field produce precise, different errors (and cost one lookup,
not a try-every-model loop).
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

RoomName = Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")]
UserName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class _Frame(BaseModel):
    # Unknown fields are refused: a typo such as {"txt": ...} must not pass as an empty message.
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- client -> server -------------------------------------------------------------------


class Join(_Frame):
    type: Literal["join"]
    room: RoomName


class Leave(_Frame):
    type: Literal["leave"]
    room: RoomName


class Say(_Frame):
    type: Literal["message"]
    room: RoomName
    text: Text


class Whisper(_Frame):
    type: Literal["direct"]
    to: UserName
    text: Text


class Pong(_Frame):
    type: Literal["pong"]


ClientFrame = Annotated[Join | Leave | Say | Whisper | Pong, Field(discriminator="type")]
CLIENT_FRAME: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


# --- server -> client -------------------------------------------------------------------


class Welcome(_Frame):
    type: Literal["welcome"] = "welcome"
    user: str
    heartbeat: float


class Message(_Frame):
    type: Literal["message"] = "message"
    room: str
    user: str
    text: str
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    ts: float = Field(default_factory=time.time)


class Direct(_Frame):
    type: Literal["direct"] = "direct"
    user: str
    to: str
    text: str
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    ts: float = Field(default_factory=time.time)


class Presence(_Frame):
    """A change in a room, broadcast to it. Deliberately a delta plus a count, never the full
    member list: a full list per change makes N joins cost O(N^2) bytes (a 1,000-user room
    would push gigabytes just to fill up)."""

    type: Literal["presence"] = "presence"
    room: str
    count: int
    joined: str | None = None
    left: str | None = None
    # Why someone left: "leave", "disconnect", "heartbeat timeout", "slow consumer", ...
    reason: str | None = None


class History(_Frame):
    """The snapshot a newcomer needs, sent to it alone: who is here and what was said."""

    type: Literal["history"] = "history"
    room: str
    users: list[str]
    messages: list[Message]
    # True when the room said more than `messages` holds. A client coming back after a
    # disconnect looks for the last message id it saw: absent here and truncated means a gap.
    truncated: bool = False


class Ping(_Frame):
    type: Literal["ping"] = "ping"
    ts: float = Field(default_factory=time.time)


class Error(_Frame):
    type: Literal["error"] = "error"
    # `code` is stable and meant for programs; `detail` is for people and may change.
    code: str
    detail: str


ServerFrame = Annotated[
    Welcome | Message | Direct | Presence | History | Ping | Error, Field(discriminator="type")
]
SERVER_FRAME: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)


def parse_client_frame(text: str) -> ClientFrame | Error:
    """Validate one inbound frame; a bad one becomes the Error frame to send back."""
    try:
        return CLIENT_FRAME.validate_json(text)
    except ValidationError as exc:
        return _describe(exc)


def _describe(exc: ValidationError) -> Error:
    first = exc.errors(include_url=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        return Error(code="bad_json", detail="frame is not valid JSON")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return Error(
            code="unknown_type",
            detail="expected an object with type join, leave, message, direct or pong",
        )
    where = ".".join(str(part) for part in first["loc"][1:]) or "frame"
    return Error(code="invalid", detail=f"{where}: {first['msg']}")
