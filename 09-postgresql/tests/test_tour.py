"""What the tour says after an index demo: a speed-up only for a plan that used the index."""

from __future__ import annotations

from demo.tour import verdict
from shopdb import indexes
from shopdb.plans import Plan

DEMO = indexes.INDEX_DEMOS["composite"]


def plan(node: dict[str, object], ms: float, buffers: int) -> Plan:
    return {"Plan": {**node, "Shared Hit Blocks": buffers}, "Execution Time": ms}


SEQ_SCAN = {"Node Type": "Seq Scan", "Relation Name": "orders"}
INDEX_SCAN = {"Node Type": "Index Scan", "Index Name": DEMO.index, "Relation Name": "orders"}


def test_an_index_the_plan_used_gets_its_speed_up() -> None:
    cmp = indexes.Comparison(DEMO, plan(SEQ_SCAN, 7.16, 420), plan(INDEX_SCAN, 0.03, 7), 1552)

    assert verdict(cmp) == "=> 7.16 -> 0.03 ms, 420 -> 7 buffers (238.7x faster)"


def test_an_index_the_planner_ignored_gets_no_ratio() -> None:
    # The same seq scan twice, 1.2 ms then 1.0 ms: noise, not a speed-up from the index.
    cmp = indexes.Comparison(DEMO, plan(SEQ_SCAN, 1.2, 12), plan(SEQ_SCAN, 1.0, 12), 16)

    assert verdict(cmp) == (
        "=> the planner did not use the index at this size (1.20 -> 1.00 ms, 12 -> 12 buffers)"
    )
