"""Two settings a plan reveals: work_mem (does a sort fit in memory?) and statistics
(does the planner know how many rows match?)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from .plans import explain, nodes

# md5 text makes every row ~40 bytes wider than a bare integer, so the sort needs memory.
SORT_SQL = "SELECT g, md5(g::text) AS h FROM generate_series(1, %(rows)s) AS g ORDER BY h"


@dataclass(frozen=True)
class SortReport:
    work_mem: str
    method: str  # "quicksort", "top-N heapsort" (memory) or "external merge" (disk)
    space_type: str  # "Memory" or "Disk"
    space_kb: int
    ms: float


def sort_with_work_mem(conn: psycopg.Connection, work_mem: str, rows: int = 100_000) -> SortReport:
    """Sort `rows` rows with the given work_mem. Too little, and the sort spills sorted runs
    to temporary files and merges them: an external merge.

    Call it on an idle connection: SET LOCAL lasts until the end of the outermost
    transaction, so inside a caller's open transaction it would outlive this function.
    """
    with conn.transaction():
        # SET LOCAL: the setting ends with the transaction, the session stays as it was.
        conn.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(work_mem)))
        plan = explain(conn, SORT_SQL, {"rows": rows})
    sort = next(n for n in nodes(plan) if n["Node Type"] == "Sort")
    return SortReport(
        work_mem,
        str(sort["Sort Method"]),
        str(sort["Sort Space Type"]),
        int(sort["Sort Space Used"]),
        float(plan["Execution Time"]),
    )


@dataclass(frozen=True)
class Estimate:
    before_analyze: int
    after_analyze: int
    actual: int


def statistics_demo(conn: psycopg.Connection, rows: int = 20_000) -> Estimate:
    """How many rows will `kind = 'common'` return? Without statistics the planner assumes
    a fixed 0.5% per equality; ANALYZE samples the table and it knows (here: 99.5%).

    A temporary table, because autovacuum never analyzes those: nothing can gather the
    statistics behind our back between the two EXPLAINs. 20,000 rows is under ANALYZE's
    sample of 30,000, so it reads every row and the estimate is exact.
    """
    with conn.transaction():
        conn.execute("DROP TABLE IF EXISTS pg_temp.stats_demo")
        conn.execute("CREATE TEMP TABLE stats_demo (id int, kind text)")
        conn.execute(
            """
            INSERT INTO stats_demo
            SELECT g, CASE WHEN g %% 200 = 0 THEN 'rare' ELSE 'common' END
            FROM generate_series(1, %s) AS g
            """,
            (rows,),
        )
        query = "SELECT id FROM stats_demo WHERE kind = 'common'"
        before = explain(conn, query)
        conn.execute("ANALYZE stats_demo")
        after = explain(conn, query)
        conn.execute("DROP TABLE stats_demo")
    scan_before, scan_after = before["Plan"], after["Plan"]
    return Estimate(
        int(scan_before["Plan Rows"]), int(scan_after["Plan Rows"]), int(scan_after["Actual Rows"])
    )
