"""Next fire times across both DST changes, computed from the trigger - no clock, no sleeping.

The expected rows were checked by hand against the zone rules: New York springs forward at
02:00 on 2027-03-14 and falls back at 02:00 on 2027-11-07; London at 01:00 GMT on 2027-03-28
and 02:00 BST on 2027-10-31.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import main
from scheduling.timezones import cron_trigger, next_fire_times

LESSON = Path(__file__).resolve().parents[1]


def kind(note: str) -> str:
    if "does not exist" in note:
        return "gap"
    return "twice" if "happens twice" in note else note


def fires(cron: str, zone: str, after: str, count: int) -> list[tuple[str, str, str]]:
    start = datetime.fromisoformat(after).replace(tzinfo=ZoneInfo(zone))
    return [
        (f"{f.at:%m-%d %H:%M %Z}", f"{f.utc:%H:%M}", kind(f.note))
        for f in next_fire_times(cron_trigger(cron, zone), start, count)
    ]


@pytest.mark.parametrize(
    ("cron", "zone", "after", "expected"),
    [
        # Spring forward, New York: 02:30 does not exist on 03-14; the run moves to 03:30 EDT,
        # the same instant (07:30Z) as the day before, and the next day is an hour earlier in UTC.
        ("30 2 * * *", "America/New_York", "2027-03-13T00:00", [
            ("03-13 02:30 EST", "07:30", ""),
            ("03-14 03:30 EDT", "07:30", "gap"),
            ("03-15 02:30 EDT", "06:30", ""),
        ]),
        # Fall back, New York: 01:30 happens twice on 11-07 and the job runs at both.
        ("30 1 * * *", "America/New_York", "2027-11-06T00:00", [
            ("11-06 01:30 EDT", "05:30", ""),
            ("11-07 01:30 EDT", "05:30", "twice"),
            ("11-07 01:30 EST", "06:30", "twice"),
            ("11-08 01:30 EST", "06:30", ""),
        ]),
        # London springs forward at 01:00: 01:30 does not exist, 02:30 does.
        ("30 1 * * *", "Europe/London", "2027-03-27T00:00", [
            ("03-27 01:30 GMT", "01:30", ""),
            ("03-28 02:30 BST", "01:30", "gap"),
            ("03-29 01:30 BST", "00:30", ""),
        ]),
        ("30 2 * * *", "Europe/London", "2027-03-27T00:00", [
            ("03-27 02:30 GMT", "02:30", ""),
            ("03-28 02:30 BST", "01:30", ""),
        ]),
        # London falls back at 02:00 BST: 01:30 twice.
        ("30 1 * * *", "Europe/London", "2027-10-30T00:00", [
            ("10-30 01:30 BST", "00:30", ""),
            ("10-31 01:30 BST", "00:30", "twice"),
            ("10-31 01:30 GMT", "01:30", "twice"),
        ]),
        # A job with several slots a night simply loses the ones inside the gap.
        ("*/30 1-3 * * *", "America/New_York", "2027-03-14T00:00", [
            ("03-14 01:00 EST", "06:00", ""),
            ("03-14 01:30 EST", "06:30", ""),
            ("03-14 03:00 EDT", "07:00", ""),
            ("03-14 03:30 EDT", "07:30", ""),
        ]),
    ],
)  # fmt: skip
def test_fire_times_across_dst_match_the_hand_checked_table(
    cron: str, zone: str, after: str, expected: list[tuple[str, str, str]]
) -> None:
    assert fires(cron, zone, after, len(expected)) == expected


def test_the_ambiguous_hour_says_which_of_the_two_runs_it_is() -> None:
    start = datetime(2027, 11, 7, tzinfo=ZoneInfo("America/New_York"))
    first, second = next_fire_times(cron_trigger("30 1 * * *", "America/New_York"), start, 2)

    assert first.note.endswith("the first one") and second.note.endswith("the second one")
    assert (second.utc - first.utc).total_seconds() == 3600


def test_next_fire_times_are_strictly_after_the_start() -> None:
    zone = ZoneInfo("UTC")
    start = datetime(2027, 1, 1, 2, 0, tzinfo=zone)  # exactly a fire time

    got = next_fire_times(cron_trigger("0 2 * * *", "UTC"), start, 2)

    assert [f.at for f in got] == [datetime(2027, 1, d, 2, 0, tzinfo=zone) for d in (2, 3)]


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=LESSON, capture_output=True, text=True, timeout=60
    )


def test_main_next_prints_the_times_and_the_dst_notes() -> None:
    result = run_main(
        "next", "30 1 * * *", "--tz", "America/New_York", "--after", "2027-11-06", "--count", "3"
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2027-11-06 01:30 EDT   2027-11-06 05:30Z")
    assert "happens twice" in lines[1] and "the first one" in lines[1]
    assert lines[2].startswith("2027-11-07 01:30 EST") and "the second one" in lines[2]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["next", "61 * * * *"], "higher than the maximum"),
        (["next", "* * *"], "Wrong number of fields"),
        (["next", "* * * * *", "--tz", "Mars/Base"], "Mars/Base"),
        (["next", "* * * * *", "--after", "yesterday"], "not an ISO time"),
        (["next", "* * * * *", "--count", "0"], "--count"),
    ],
)
def test_a_bad_cron_line_or_zone_is_one_line_and_exit_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main.main(args)

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and says in err
