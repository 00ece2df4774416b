"""Tests for the README's exercises 3 and 5. Deselected by default; `pytest -m exercise` runs
them, and they fail until you write the feature."""

from __future__ import annotations

import pytest

from messaging.streams import EventStream

pytestmark = pytest.mark.exercise


@pytest.mark.redis
async def test_exercise_3_entries_delivered_too_often_move_to_a_dead_stream(r, namespace) -> None:
    stream = EventStream(r, f"{namespace}:orders", "billing", maxlen=1_000)
    await stream.ensure_group()
    entry_id = await stream.add({"order": "1"})
    await stream.read("a", count=1)
    for _ in range(3):  # three consumers in turn take it and die: 4 deliveries
        await stream.reclaim("b", min_idle_ms=0)

    moved = await stream.dead_letter("b", min_idle_ms=0, max_deliveries=3)  # type: ignore[attr-defined]

    assert [i for i, _ in moved] == [entry_id]
    assert await stream.pending() == []  # acked in the group
    dead = await r.xrange(f"{stream.name}:dead")
    assert [fields["order"] for _, fields in dead] == ["1"]


async def test_exercise_5_a_sql_ledger_applies_each_message_once() -> None:
    from messaging.idempotency import SqlLedger  # type: ignore[attr-defined]

    ledger = SqlLedger(":memory:")

    assert await ledger.record_once("m-1", "charged order 1") is True
    assert await ledger.record_once("m-1", "charged order 1") is False
    assert await ledger.record_once("m-2", "charged order 2") is True
    assert await ledger.entries() == ["charged order 1", "charged order 2"]
