"""The exclusion constraint: overlapping bookings of one room cannot exist."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from shopdb import bookings, db

pytestmark = pytest.mark.postgres


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 5, day, hour, tzinfo=UTC)


def test_overlap_is_refused_with_a_domain_error(shop: psycopg.Connection) -> None:
    bookings.book(shop, 1, "ada", at(1), at(3))

    with pytest.raises(bookings.BookingOverlap, match="room 1 is already booked") as caught:
        bookings.book(shop, 1, "grace", at(2), at(4))

    # The database refused it (the exclusion constraint), not a check in Python.
    assert isinstance(caught.value.__cause__, psycopg.errors.ExclusionViolation)
    rows = shop.execute("SELECT guest FROM bookings WHERE room_id = 1").fetchall()
    assert rows == [("ada",)]


def test_back_to_back_stays_do_not_overlap(shop: psycopg.Connection) -> None:
    # [1st, 3rd) and [3rd, 5th): half-open ranges share no instant.
    bookings.book(shop, 1, "ada", at(1), at(3))
    bookings.book(shop, 1, "grace", at(3), at(5))

    assert shop.execute("SELECT count(*) FROM bookings").fetchone() == (2,)


def test_other_room_same_time_is_fine(shop: psycopg.Connection) -> None:
    bookings.book(shop, 1, "ada", at(1), at(3))
    bookings.book(shop, 2, "grace", at(1), at(3))

    assert bookings.free_rooms(shop, at(2), at(2, 13)) == []
    assert bookings.free_rooms(shop, at(3), at(4)) == [1, 2]


def test_empty_or_reversed_range_is_bad_input(shop: psycopg.Connection) -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        bookings.book(shop, 1, "ada", at(3), at(3))


def test_overlapping_finds_the_stays_sharing_an_instant(shop: psycopg.Connection) -> None:
    bookings.book(shop, 1, "ada", at(1), at(3))
    bookings.book(shop, 1, "grace", at(3), at(5))
    bookings.book(shop, 2, "alan", at(1), at(5))

    def guests(start: datetime, end: datetime) -> list[str]:
        return [guest for _, guest, _, _ in bookings.overlapping(shop, 1, start, end)]

    assert guests(at(2), at(3)) == ["ada"]
    assert guests(at(2), at(4)) == ["ada", "grace"]
    assert guests(at(5), at(6)) == []  # grace leaves as this begins: half-open


def test_two_racing_transactions_cannot_both_book_the_room(connect: db.Connect) -> None:
    # Two sessions book room 2 for overlapping nights at the same moment. Neither can see
    # the other's uncommitted row, so a "SELECT, then INSERT if free" check in the app would
    # let both through. The constraint does not: the second INSERT waits for the first
    # transaction, and fails once it commits.
    start = datetime(2031, 1, 10, tzinfo=UTC)
    outcome: dict[str, object] = {}
    with connect() as first, connect() as second, connect() as watcher:
        try:
            with first.transaction():
                bookings.book(first, 2, "ada", start, start + timedelta(days=3))
                second_pid = second.info.backend_pid

                def book_second() -> None:
                    try:
                        end = start + timedelta(days=4)
                        outcome["second"] = bookings.book(second, 2, "grace", start, end)
                    except bookings.BookingOverlap as exc:
                        outcome["second"] = exc

                racer = threading.Thread(target=book_second)
                racer.start()
                wait_until_blocked(watcher, second_pid)  # grace's INSERT waits on ada's row
            # first's transaction committed here: the waiting INSERT now sees ada's stay
            racer.join(timeout=30)

            assert isinstance(outcome["second"], bookings.BookingOverlap)
            rows = watcher.execute(
                "SELECT guest FROM bookings WHERE room_id = 2 AND lower(during) >= %s", (start,)
            ).fetchall()
            assert rows == [("ada",)]
        finally:
            watcher.execute("DELETE FROM bookings WHERE lower(during) >= %s", (start,))
            watcher.commit()


def wait_until_blocked(watcher: psycopg.Connection, pid: int, timeout: float = 30) -> None:
    """Poll pg_stat_activity until `pid` waits on a lock: a condition, not a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        watcher.rollback()  # a fresh snapshot of pg_stat_activity on every poll
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise TimeoutError(f"session {pid} never waited on a lock")
