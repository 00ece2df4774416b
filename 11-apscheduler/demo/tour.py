"""The demo: triggers read before trusted, jobs watched live, a restart that finds missed runs."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy import Engine

from scheduling.factory import build_scheduler
from scheduling.history import HistoryRecorder, history
from scheduling.settings import Settings

console = Console()
DEMO_JOBS = ("demo-report", "demo-cron", "demo-once", "demo-flaky", "demo-overrun", "demo-catchup")


def run_demo(settings: Settings, engine: Engine, seconds: float) -> int:
    # APScheduler logs every error, miss and overlap with a traceback; the demo shows them
    # from the history table instead, so its tables stay readable.
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    show_triggers(settings)
    recorder = HistoryRecorder(engine)
    scheduler = build_scheduler(settings, engine=engine)
    recorder.attach(scheduler)
    scheduler.start()
    add_demo_jobs(scheduler, seconds)
    console.rule(f"[bold]2. {len(DEMO_JOBS)} jobs on a live scheduler for {seconds:.0f} s")
    started = datetime.now(settings.zone)
    watch(scheduler, engine, seconds, started)
    scheduler.shutdown(wait=False)
    stopped = datetime.now(settings.zone)

    console.rule("[bold]3. The scheduler is down; runs come due with nobody to run them")
    stored = build_scheduler(settings, engine=engine)
    stored.start(paused=True)  # paused: read the store without running anything
    console.print(f"jobs still in the store: {len(stored.get_jobs())} (they survive a restart)")
    stored.shutdown(wait=False)
    time.sleep(seconds)

    console.rule("[bold]4. Restarted on the same store: coalesce and misfire_grace_time decide")
    restarted_at = datetime.now(settings.zone)
    again = build_scheduler(settings, engine=engine)
    HistoryRecorder(engine).attach(again)
    again.start()
    time.sleep(min(seconds, 1.5))
    for job_id in DEMO_JOBS:
        if again.get_job(job_id):
            again.remove_job(job_id)  # leave the store as we found it
    again.shutdown(wait=True)
    summarise(engine, started, stopped, restarted_at)
    return 0


def show_triggers(settings: Settings) -> None:
    console.rule("[bold]1. Read a trigger's next fire times before trusting it")
    now = datetime.now(settings.zone)
    triggers = {
        "interval, every 15 min": IntervalTrigger(minutes=15, timezone=settings.zone),
        "cron 0 9 * * mon-fri London": CronTrigger.from_crontab(
            "0 9 * * mon-fri", timezone="Europe/London"
        ),
        "date, once in an hour": DateTrigger(now + timedelta(hours=1)),
        "interval 1 h, jitter 120 s": IntervalTrigger(hours=1, jitter=120),
    }
    table = Table("trigger", "next three fire times")
    for name, trigger in triggers.items():
        fires, previous = [], None
        for _ in range(3):
            fire = trigger.get_next_fire_time(previous, previous or now)
            if fire is None:
                break
            fires.append(f"{fire:%a %H:%M:%S %Z}")
            previous = fire + timedelta(microseconds=1)
        table.add_row(name, ", ".join(fires))
    console.print(table)
    console.print('DST: [cyan]python main.py next "30 1 * * *" --tz America/New_York[/]')


def add_demo_jobs(scheduler: BaseScheduler, seconds: float) -> None:
    now = datetime.now(scheduler.timezone)
    add = scheduler.add_job
    # Stable ids + replace_existing: a restart updates the stored job instead of adding a twin.
    common = {"replace_existing": True}
    add("scheduling.tasks:send_report", "interval", seconds=1, id="demo-report", **common)
    add(
        "scheduling.tasks:send_report",
        CronTrigger(second="*/2"),
        args=["cron"],
        id="demo-cron",
        **common,
    )
    add("scheduling.tasks:send_report", DateTrigger(now + timedelta(seconds=seconds / 3)),
        args=["once"], id="demo-once", **common)  # fmt: skip
    add("scheduling.tasks:flaky", "interval", seconds=1.5, id="demo-flaky", **common)
    # Runs 1.2 s every 0.5 s with max_instances=1: most fire times find it still running.
    add("scheduling.tasks:overrun", "interval", seconds=0.5, args=[1.2], id="demo-overrun",
        max_instances=1, **common)  # fmt: skip
    # While the scheduler is down this one comes due every 0.5 s; on restart, runs older than
    # 1 s are missed and, without coalescing, every younger one runs separately.
    add("scheduling.tasks:tick", "interval", seconds=0.5, id="demo-catchup", coalesce=False,
        misfire_grace_time=1, **common)  # fmt: skip


def watch(scheduler: BaseScheduler, engine: Engine, seconds: float, since: datetime) -> None:
    deadline = time.monotonic() + seconds
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while time.monotonic() < deadline:
            live.update(snapshot(scheduler, engine, since))
            time.sleep(0.25)
        live.update(snapshot(scheduler, engine, since))


def snapshot(scheduler: BaseScheduler, engine: Engine, since: datetime) -> Table:
    table = Table("job", "next run", "last outcomes (newest first)")
    runs = [run for run in history(engine, limit=200) if run.scheduled_at >= since]
    for job_id in DEMO_JOBS:
        job = scheduler.get_job(job_id)
        nxt = f"{job.next_run_time:%H:%M:%S.%f}"[:-4] if job and job.next_run_time else "-"
        last = [r.outcome for r in runs if r.job_id == job_id][:5]
        table.add_row(job_id, nxt, " ".join(last) or "-")
    return table


def summarise(engine: Engine, started: datetime, stopped: datetime, restarted: datetime) -> None:
    """Runs per job and outcome: while up, due while down (handled at restart), and after."""
    phases: dict[str, Counter[tuple[str, str]]] = {p: Counter() for p in ("up", "down", "after")}
    for run in history(engine, limit=5000):
        if run.scheduled_at < started:
            continue  # an earlier demo's rows
        at = run.scheduled_at
        phase = "up" if at < stopped else "down" if at < restarted else "after"
        phases[phase][(run.job_id, run.outcome)] += 1
    table = Table("job", "outcome", "while up", "due while down", "after the restart")
    for key in sorted(set().union(*phases.values())):
        table.add_row(*key, *(str(phases[p][key]) for p in ("up", "down", "after")))
    console.print(table)
    console.print(
        "Due while down: demo-report (coalesce=True) ran once for all its missed runs; "
        "demo-catchup (coalesce=False, misfire_grace_time=1 s) ran the runs younger than 1 s "
        "one by one and recorded the older ones as missed."
    )
