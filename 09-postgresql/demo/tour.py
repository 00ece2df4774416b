"""What `python main.py tour` and `explain` print: for each demo the SQL, the answer and
what the plan says. Output only; the demos themselves live in their own modules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import psycopg
from psycopg.types.json import Jsonb
from psycopg.types.range import Range
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from shopdb import (
    bookings,
    indexes,
    isolation,
    jobqueue,
    jsonb,
    locking,
    plans,
    pooling,
    queries,
    tuning,
)
from shopdb.db import Connect

MAX_ROWS = 8


def verdict(cmp: indexes.Comparison) -> str:
    """The last line of an index demo: what the index changed - if the planner used it."""
    before, after = plans.execution_ms(cmp.before), plans.execution_ms(cmp.after)
    times = f"{before:.2f} -> {after:.2f} ms, "
    times += f"{plans.buffers(cmp.before)} -> {plans.buffers(cmp.after)} buffers"
    if cmp.demo.index not in plans.index_scans(cmp.after):
        # A ratio here would only be noise between two runs of the same plan.
        return f"=> the planner did not use the index at this size ({times})"
    return f"=> {times} ({before / max(after, 0.001):.1f}x faster)"


class Tour:
    def __init__(
        self, conn: psycopg.Connection, connect: Connect, console: Console, url: str
    ) -> None:
        # `url` is for the connection pool demo: a pool opens its connections itself.
        self.conn, self.connect, self.out, self.url = conn, connect, console, url

    def heading(self, title: str, why: str = "") -> None:
        self.out.rule()
        self.out.print(f"[bold]{title}[/]")
        if why:
            self.out.print(why, style="italic")

    def sql(self, text: str) -> None:
        # soft_wrap=False: wrap long SQL at the console width rather than cut it off.
        syntax = Syntax(text.strip(), "sql", theme="ansi_dark", word_wrap=True)
        self.out.print(syntax, soft_wrap=False)

    def bound(self, query: str, params: plans.Params) -> None:
        """Print `query` with its parameters filled in, as the server receives them."""
        self.sql(psycopg.ClientCursor(self.conn).mogrify(query, params))

    def rows(self, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        table = Table(*columns, show_edge=False, header_style="bold")
        for row in rows[:MAX_ROWS]:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        self.out.print(table)
        if len(rows) > MAX_ROWS:
            self.out.print(f"... {len(rows) - MAX_ROWS} more rows")

    def plan(self, label: str, plan: plans.Plan) -> None:
        self.out.print(f"[bold]{label}[/]")
        for line in plans.summary(plan):
            self.out.print("  " + line, highlight=False)

    # -- sections -------------------------------------------------------------------

    def run_queries(self) -> None:
        for demo in queries.QUERIES.values():
            self.heading(demo.title, demo.why)
            self.sql(demo.sql)
            result = queries.run(self.conn, demo)
            self.rows(result.columns, result.rows)
            self.plan("plan", plans.explain(self.conn, demo.sql))
            self.conn.rollback()

    def run_index(self, name: str) -> None:
        if name == "selectivity":
            self.run_selectivity()
            return
        if name == indexes.SWAPPED.name:
            self.run_column_order()
            return
        demo = indexes.INDEX_DEMOS[name]
        self.heading(demo.title, demo.why)
        self.sql(demo.sql)
        self.sql(demo.ddl)
        cmp = indexes.compare(self.conn, demo)
        self.plan("without the index", cmp.before)
        self.plan(f"with {demo.index} ({cmp.index_kb} kB)", cmp.after)
        self.out.print(verdict(cmp))

    def run_column_order(self) -> None:
        demo = indexes.SWAPPED
        self.heading(demo.title, demo.why)
        self.sql(demo.sql)
        for index, plan in indexes.column_order(self.conn).items():
            self.plan(f"with {index} only", plan)

    def run_selectivity(self) -> None:
        self.heading(
            "When an index is NOT used: selectivity",
            "One index on orders(status). 'cancelled' is 2% of orders: the index wins. "
            "'delivered' is 85%: visiting the index and then almost every page costs more "
            "than reading the table once, so the planner ignores the index.",
        )
        self.sql(indexes.SELECTIVITY_DDL)
        for status, plan in indexes.selectivity(self.conn).items():
            self.plan(f"status = '{status}'", plan)

    def run_jsonb(self) -> None:
        self.heading("JSONB: query inside documents, update one nested key")
        self.bound(jsonb.BRANDS_BY_COLOR, ("red",))
        self.rows(("brand", "products"), jsonb.brands_by_color(self.conn, "red"))
        self.bound(jsonb.LIGHT_WIRELESS, (120,))
        self.rows(("id", "grams"), jsonb.light_wireless(self.conn, 120))
        self.bound(jsonb.TAGS, (1,))
        self.out.print(f"tags of product 1: {jsonb.tags(self.conn, 1)}")
        self.heading(
            "JSONB containment (@>) with its GIN index",
            "The index of the `jsonb` index demo, built for this query and dropped after.",
        )
        wanted = {"color": "red", "specs": {"wireless": True}}
        self.bound(jsonb.FIND, (Jsonb(wanted),))
        found = jsonb.find(self.conn, wanted)
        self.out.print(f"{len(found)} products, first {found[:5]}")
        demo = indexes.INDEX_DEMOS["jsonb"]
        indexes.drop_index(self.conn, demo.index)
        indexes.create_index(self.conn, demo)
        try:
            plan = plans.explain(self.conn, jsonb.FIND, (Jsonb(wanted),))
            self.conn.rollback()
        finally:
            indexes.drop_index(self.conn, demo.index)
        self.plan(f"plan with {demo.index}", plan)
        self.heading("jsonb_set: change one nested key in the server")
        self.bound(jsonb.SET_SPEC, ("weight_g", Jsonb(99), 1))
        after = jsonb.set_spec(self.conn, 1, "weight_g", 99)
        self.out.print(f"-> {after} (rolled back)")
        self.conn.rollback()

    def run_transactions(self) -> None:
        level = isolation.IsolationLevel
        self.heading("Non-repeatable read: the same SELECT twice, a commit in between")
        self.sql(isolation.STEPS["non_repeatable_read"])
        for lvl in (level.READ_COMMITTED, level.REPEATABLE_READ):
            first, second = isolation.non_repeatable_read(self.connect, lvl)
            self.out.print(f"{lvl.name:<16} first read {first}, second read {second}")
        self.heading("Lost update: read, compute in Python, write back")
        self.sql(isolation.STEPS["lost_update"])
        final = isolation.lost_update(self.connect, level.READ_COMMITTED)
        self.out.print(
            f"READ_COMMITTED   final balance {final} cents; 10000 - 3000 - 5000 should leave 2000:"
            " one withdrawal vanished"
        )
        try:
            isolation.lost_update(self.connect, level.REPEATABLE_READ)
        except psycopg.errors.SerializationFailure as exc:
            self.out.print(f"REPEATABLE_READ  second writer refused: {exc}")
        self.heading("Write skew: two doctors go off call at once")
        self.sql(isolation.STEPS["write_skew"])
        for lvl in (level.REPEATABLE_READ, level.SERIALIZABLE):
            r = isolation.write_skew(self.connect, lvl)
            self.out.print(
                f"{lvl.name:<16} committed {r.committed}, refused {r.failed}, "
                f"on call after: {r.on_call_after}"
            )
        self.heading("Deadlock: rows locked in opposite orders")
        self.sql(locking.STEPS["deadlock"])
        self.out.print(f"outcome: {locking.deadlock(self.connect)} - one victim, one winner")
        self.run_queue()

    def run_queue(self) -> None:
        self.heading(
            "Job queue: FOR UPDATE SKIP LOCKED, a lease, no transaction around the job",
            "Each worker leases the next free job in a short transaction, runs it with no "
            "transaction open, and marks it done in another.",
        )
        self.bound(jobqueue.CLAIM, {"worker": "w0", "lease": jobqueue.LEASE})
        jobqueue.reset(self.conn)
        jobqueue.enqueue(self.conn, [{"n": i} for i in range(200)])
        counts = jobqueue.run_workers(self.connect, 4, lambda payload: None)
        row = self.conn.execute("SELECT count(*), count(DISTINCT job_id) FROM job_runs").fetchone()
        self.conn.rollback()
        self.out.print(
            f"jobs per worker {dict(sorted(counts.items()))}; runs, distinct jobs: {row}"
        )
        name = "nightly-report"
        self.heading("Advisory lock: only one session runs the nightly report")
        self.bound(jobqueue.TRY_LOCK, (name,))
        with (
            jobqueue.advisory_lock(self.conn, name) as first,
            self.connect() as other,
            jobqueue.advisory_lock(other, name) as second,
        ):
            self.out.print(f"advisory lock {name!r}: first session {first}, second {second}")

    def run_bookings(self) -> None:
        self.heading("Exclusion constraint: overlapping bookings are impossible")
        self.sql("EXCLUDE USING gist (room_id WITH =, during WITH &&)")
        row = self.conn.execute(
            "SELECT lower(during), upper(during) FROM bookings "
            "WHERE room_id = 1 ORDER BY id LIMIT 1"
        ).fetchone()
        self.conn.rollback()
        if row is None:
            return
        self.bound(bookings.BOOK, (1, "late guest", Range(row[0], row[1], "[)")))
        try:
            bookings.book(self.conn, 1, "late guest", row[0], row[1])
        except bookings.BookingOverlap as exc:
            self.out.print(f"refused: {exc}")
        self.conn.rollback()
        self.heading(
            "The constraint's GiST index answers overlap queries too",
            "Which stays of room 1 touch the week of the first one? (= and && are the "
            "constraint's operators.)",
        )
        start, end = row[0], row[0] + timedelta(days=7)
        params = {"room": 1, "start": start, "end": end}
        self.bound(bookings.OVERLAPPING, params)
        self.rows(
            ("id", "guest", "arrives", "leaves"), bookings.overlapping(self.conn, 1, start, end)
        )
        self.plan("plan", plans.explain(self.conn, bookings.OVERLAPPING, params))
        self.conn.rollback()

    def run_tuning(self) -> None:
        self.heading("work_mem: the same sort, on disk or in memory")
        self.sql(tuning.SORT_SQL)
        for mem in ("64kB", "64MB"):
            r = tuning.sort_with_work_mem(self.conn, mem)
            self.out.print(f"work_mem {mem:>5}: {r.method} ({r.space_type}, {r.space_kb} kB)")
        self.heading("Statistics: what the planner guesses before and after ANALYZE")
        est = tuning.statistics_demo(self.conn)
        self.out.print(
            f"estimated rows before ANALYZE {est.before_analyze}, after {est.after_analyze}, "
            f"actual {est.actual}"
        )
        self.run_pooling()

    def run_pooling(self) -> None:
        self.heading(
            "A connection pool and a prepared statement",
            "Three orders looked up on one pooled connection with prepare=True: the server "
            "parses and plans the query once, then only binds the id and executes. "
            "(`python bench.py` times this against a pool alone and a connection per query.)",
        )
        self.sql(pooling.POINT_QUERY)
        # size 1: all three queries share one session, the one pg_prepared_statements shows.
        with pooling.open_pool(self.url, size=1) as pool:
            found = pooling.point_queries("pool + prepared", self.url, pool, [1, 2, 3])
            self.rows(("order", "email"), found)
            with pool.connection() as conn:
                held = pooling.prepared_statements(conn)
        for name, statement, runs in held:
            self.out.print(
                f"pg_prepared_statements of that session: {name}, executed {runs} times: "
                f"{statement}"
            )

    def run_all(self) -> None:
        self.run_queries()
        for name in indexes.EXPLAIN_NAMES:
            self.run_index(name)
        self.run_jsonb()
        self.run_bookings()
        self.run_transactions()
        self.run_tuning()
