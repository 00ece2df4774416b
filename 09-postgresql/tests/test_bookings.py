"""The exclusion constraint: overlapping bookings of one room cannot exist."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from shopdb import bookings

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
