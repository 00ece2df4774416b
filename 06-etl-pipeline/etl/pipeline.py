"""The run: for each source, batches of extract -> transform -> load, each batch one transaction.

Why it survives a crash: a batch's rows, its rejects, the run's counts and (for a source read in
watermark order) the watermark commit together. Killed mid-way, the next run starts after the last
committed batch; whatever it reads again is upserted to the same result and filed in quarantine
under the same (source, position). So a rerun ends with exactly the rows of a clean run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from etl.extract import Item, Mark, Reject, SourceError, csv_source, db_source
from etl.extract_api import ApiSource
from etl.load import dedupe, move_watermark, quarantine, upsert_orders
from etl.records import clean
from etl.schema import Order, Quarantine, Run, Watermark
from etl.settings import Settings

log = logging.getLogger("etl")
SOURCES = ("csv", "api", "db")
# Sources that yield rows in (updated_at, id) order can move their watermark after every batch;
# the CSV exports are in no order, so theirs moves only when the whole source is read.
ORDERED = {"api": True, "db": True, "csv": False}


@dataclass
class Counts:
    read: int = 0  # records the extractor produced
    unchanged: int = 0  # at or below the watermark: skipped (sources that cannot filter)
    rejected: int = 0  # quarantined
    duplicates: int = 0  # the target already held this version or a newer one
    loaded: int = 0  # rows inserted or replaced
    retries: int = 0  # requests repeated (the API source)
    seconds: float = 0.0

    @property
    def taken_in(self) -> int:
        """in = loaded + rejected + duplicates: every record read is accounted for."""
        return self.read - self.unchanged


@dataclass
class RunResult:
    run_id: int
    counts: dict[str, Counts] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


Key = tuple[datetime, Any]  # (updated_at, id): the order a watermark follows


def sort_key(row: dict[str, Any]) -> Key:
    oid: str = row["order_id"]
    return row["updated_at"], int(oid[2:]) if oid.startswith("P-") else oid


class Pipeline:
    def __init__(self, settings: Settings, engine: Engine, api_base: str = "",
                 on_batch: Callable[[str, int], None] | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.engine = engine
        self.api_base = api_base or settings.source_api_url
        self.on_batch = on_batch or (lambda source, n: None)
        self._api: ApiSource | None = None  # the API extractor of this run, for its retry count
        self._result = RunResult(0)  # the run under way: each batch writes all its counts

    def run(self, sources: tuple[str, ...] = SOURCES, full: bool = False) -> RunResult:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            # One run at a time: a run still "running" now was killed; say so in its record.
            s.execute(update(Run).where(Run.status == "running").values(status="killed"))
            run = Run(mode="full" if full else "incremental", sources=",".join(sources),
                      status="running", started_at=datetime.now(UTC), counts={})  # fmt: skip
            s.add(run)
        result = self._result = RunResult(run.id)
        for source in sources:
            counts = result.counts[source] = Counts()
            started = time.perf_counter()
            try:
                self._load_source(run.id, source, full, counts)
            except SourceError as exc:
                result.failed[source] = str(exc)
                log.error("run=%s source=%s stage=extract error=%r", run.id, source, str(exc))
            counts.seconds = time.perf_counter() - started
        with Session(self.engine) as s, s.begin():
            s.execute(update(Run).where(Run.id == run.id).values(
                status="failed" if result.failed else "ok", finished_at=datetime.now(UTC),
                counts={k: asdict(v) for k, v in result.counts.items()},
                error="; ".join(result.failed.values()) or None,
            ))  # fmt: skip
        return result

    def _load_source(self, run_id: int, source: str, full: bool, counts: Counts) -> None:
        if full:
            self._forget(source)
        mark = self._watermark(source)
        items = self._extract(source, mark)
        newest: Key | None = None
        batch: list[Item] = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.settings.batch_size:
                newest = self._commit(run_id, source, batch, mark, counts, newest)
                batch = []
        if batch:
            newest = self._commit(run_id, source, batch, mark, counts, newest)
        if not ORDERED[source] and newest is not None:
            with self.engine.begin() as conn:
                move_watermark(conn, source, newest[0], str(newest[1]))

    def _extract(self, source: str, mark: Mark | None) -> Iterator[Item]:
        if source == "csv":
            return csv_source(self.settings.data_dir / "input")
        if source == "db":
            return db_source(self.settings.source_database_url, mark, self.settings.batch_size)
        if not self.api_base:
            raise SourceError("api: no SOURCE_API_URL and no lesson API running")
        self._api = ApiSource(self.api_base, self.settings.api_page_size,
                              self.settings.api_attempts, self.settings.api_timeout_s)  # fmt: skip
        return self._api(mark)

    def _commit(self, run_id: int, source: str, batch: list[Item], mark: Mark | None,
                counts: Counts, newest: Key | None) -> Key | None:  # fmt: skip
        rows: list[dict[str, Any]] = []
        rejects: list[dict[str, str]] = []
        floor = None if mark is None else (mark.updated_at, mark.last_id)
        for item in batch:
            if isinstance(item, Reject):
                rejects.append({"source": source, "position": item.position, "raw": item.raw,
                                "reason": item.reason})  # fmt: skip
                continue
            cleaned = clean(item)
            if isinstance(cleaned, str):
                rejects.append({"source": source, "position": item.position,
                                "raw": repr(item.data), "reason": cleaned})  # fmt: skip
            elif floor is not None and not ORDERED[source] and (
                cleaned["updated_at"], cleaned["order_id"]) <= floor:  # fmt: skip
                counts.unchanged += 1
            else:
                rows.append(cleaned)
        top = max((sort_key(r) for r in rows), default=None)
        with self.engine.begin() as conn:
            loaded = upsert_orders(conn, dedupe(rows))
            quarantine(conn, run_id, rejects)
            if ORDERED[source] and top is not None:
                move_watermark(conn, source, top[0], f"P-{top[1]}" if source == "db" else top[1])
            counts.read += len(batch)
            counts.rejected += len(rejects)
            counts.loaded += loaded
            counts.duplicates += len(rows) - loaded
            if source == "api" and self._api is not None:
                counts.retries = self._api.retries
            everything = {k: asdict(v) for k, v in self._result.counts.items()}
            conn.execute(update(Run).where(Run.id == run_id).values(counts=everything))
        log.info("run=%s source=%s stage=load batch_rows=%s loaded=%s rejected=%s duplicates=%s",
                 run_id, source, len(batch), loaded, len(rejects), len(rows) - loaded)  # fmt: skip
        self.on_batch(source, len(batch))
        if top is None:
            return newest
        return top if newest is None or top > newest else newest

    def _watermark(self, source: str) -> Mark | None:
        """Where to start: the stored watermark, moved back by the lookback window.

        A row committed at the source after a newer one was extracted carries an updated_at
        below the watermark and would never be read again. Re-reading a window behind it picks
        such late rows up; the upsert makes everything else in the window a harmless duplicate.
        """
        with Session(self.engine) as s:
            w = s.get(Watermark, source)
        if w is None:
            return None
        back = timedelta(seconds=self.settings.watermark_lookback_s)
        return (
            Mark(w.updated_at - back, "P-0" if source == "db" else "")
            if back
            else Mark(w.updated_at, w.last_id)
        )

    def _forget(self, source: str) -> None:
        """A full reload: this source's rows, rejects and watermark go, in one transaction."""
        with Session(self.engine) as s, s.begin():
            s.execute(delete(Order).where(Order.source == source))
            s.execute(delete(Quarantine).where(Quarantine.source == source))
            s.execute(delete(Watermark).where(Watermark.source == source))


def runs(engine: Engine, limit: int = 20) -> list[Run]:
    with Session(engine) as s:
        return list(s.scalars(select(Run).order_by(Run.id.desc()).limit(limit)))
