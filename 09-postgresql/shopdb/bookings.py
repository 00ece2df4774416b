"""Room bookings guarded by an exclusion constraint: the database itself refuses overlaps,
so two requests racing for the same room cannot both win, whatever the app checks first."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import errors
from psycopg.types.range import Range

BOOK = "INSERT INTO bookings (room_id, guest, during) VALUES (%s, %s, %s) RETURNING id"

# `&&` is "ranges overlap": the operator the exclusion constraint checks, so the GiST index
# that enforces the constraint also answers this query. The ::integer matters: psycopg sends
# a small Python int as smallint, and `integer = smallint` is not an operator of the index
# (btree_gist's class has integer = integer), so room_id would only be checked afterwards.
OVERLAPPING = """
SELECT id, guest, lower(during) AS arrives, upper(during) AS leaves FROM bookings
WHERE room_id = %(room)s::integer AND during && tstzrange(%(start)s, %(end)s, '[)')
ORDER BY lower(during)
"""


class BookingOverlap(ValueError):
    """The room is already booked for (part of) the requested time."""

    def __init__(self, room_id: int, start: datetime, end: datetime) -> None:
        super().__init__(
            f"room {room_id} is already booked between {start.isoformat()} and {end.isoformat()}"
        )
        self.room_id, self.start, self.end = room_id, start, end


def book(conn: psycopg.Connection, room_id: int, guest: str, start: datetime, end: datetime) -> int:
    """Book [start, end) - half-open, so a stay may begin the moment another ends."""
    if end <= start:
        raise ValueError("a booking must end after it starts")
    try:
        with conn.transaction():
            row = conn.execute(BOOK, (room_id, guest, Range(start, end, "[)"))).fetchone()
    except errors.ExclusionViolation as exc:
        # Translate the database's words into the domain's: callers catch BookingOverlap,
        # not a driver exception, and the message names the room and the time.
        raise BookingOverlap(room_id, start, end) from exc
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return int(row[0])


def free_rooms(conn: psycopg.Connection, start: datetime, end: datetime) -> list[int]:
    """Rooms with no booking overlapping [start, end); && is "ranges overlap"."""
    rows = conn.execute(
        """
        SELECT r.id FROM rooms r
        WHERE NOT EXISTS (
            SELECT 1 FROM bookings b
            WHERE b.room_id = r.id AND b.during && tstzrange(%s, %s, '[)')
        )
        ORDER BY r.id
        """,
        (start, end),
    ).fetchall()
    return [int(r[0]) for r in rows]


def overlapping(
    conn: psycopg.Connection, room_id: int, start: datetime, end: datetime
) -> list[tuple[int, str, datetime, datetime]]:
    """The bookings of one room that share any instant with [start, end)."""
    rows = conn.execute(OVERLAPPING, {"room": room_id, "start": start, "end": end}).fetchall()
    return [(int(i), str(g), a, b) for i, g, a, b in rows]
