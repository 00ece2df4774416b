"""Reading a trigger's next fire times before trusting it, daylight-saving changes included.

A cron job in a zone with DST meets two days a year where the wall clock lies:
- spring forward: an hour of wall-clock times does not exist (New York 02:00-02:59 on the second
  Sunday of March). APScheduler 3 fires a daily job set inside the gap one hour later (02:30 runs
  at 03:30), but a job with several slots in one night loses the slots inside the gap.
- fall back: an hour happens twice (01:00-01:59). APScheduler 3 fires a job set inside it
  *twice* that night, once per offset.
Store and compare instants in UTC; keep the zone only where a human reads the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger


@dataclass(frozen=True)
class FireTime:
    at: datetime  # the instant, in the job's zone, normalised (a wall time that exists)
    note: str  # "" on an ordinary day

    @property
    def utc(self) -> datetime:
        return self.at.astimezone(UTC)


def cron_trigger(expression: str, zone: str) -> CronTrigger:
    """A trigger from a five-field crontab line; ValueError names what is wrong.

    A line can be valid field by field and still never fire ("0 0 31 2 *": 31 February). Stored,
    such a job sits paused forever, so it is refused here like any other bad line.
    """
    trigger = CronTrigger.from_crontab(expression, timezone=ZoneInfo(zone))
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise ValueError("never fires: no date matches every field")
    return trigger


def next_fire_times(trigger: CronTrigger, after: datetime, count: int) -> list[FireTime]:
    """The next `count` fire times strictly after `after`, each with a DST note.

    No clock and no sleeping: the trigger computes them, which is how a schedule is checked
    before a job is trusted to it (and how the tests pin the DST table).
    """
    out: list[FireTime] = []
    previous: datetime | None = None
    # The trigger answers ">= now"; we want "after". The step is taken in UTC: datetime
    # arithmetic in a zone is wall-clock arithmetic and drops `fold`, so one microsecond after
    # the second 01:30 of a fall-back night would be the *first* 01:30 again.
    step = timedelta(microseconds=1)
    now = after.astimezone(UTC) + step
    while len(out) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:  # a trigger with an end date has no more
            break
        out.append(FireTime(wall_clock(fire, trigger.timezone), dst_note(fire, trigger.timezone)))
        previous, now = fire, fire.astimezone(UTC) + step
    return out


def wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    """What a clock on the wall in `zone` shows at this instant.

    Through UTC on purpose: astimezone() to the datetime's own tzinfo returns it unchanged,
    even when its wall time does not exist in that zone.
    """
    return instant.astimezone(UTC).astimezone(zone)


def dst_note(fire: datetime, zone: ZoneInfo) -> str:
    """Why this fire time is not simply "the wall time the cron line says", or ""."""
    wall = fire.replace(tzinfo=None)
    real = wall_clock(fire, zone)
    if real.replace(tzinfo=None) != wall:
        return (
            f"{wall:%H:%M} does not exist on {wall:%Y-%m-%d} in {zone.key} (clocks spring "
            f"forward): runs at {real:%H:%M %Z}"
        )
    first, second = real.replace(fold=0), real.replace(fold=1)
    if first.utcoffset() != second.utcoffset():
        which = "second" if real.fold else "first"
        return f"{wall:%H:%M} happens twice on {wall:%Y-%m-%d} in {zone.key}: the {which} one"
    return ""
