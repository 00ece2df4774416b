"""Room bookings guarded by an exclusion constraint: the database itself refuses overlaps,
so two requests racing for the same room cannot both win, whatever the app checks first."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import errors
from psycopg.types.range import Range


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
            row = conn.execute(
                "INSERT INTO bookings (room_id, guest, during) VALUES (%s, %s, %s) RETURNING id",
                (room_id, guest, Range(start, end, "[)")),
            ).fetchone()
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
