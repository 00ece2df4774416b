"""Pipe and Queue: every message comes back, in order, and the echo process exits."""

from __future__ import annotations

import pytest

from parallel.ipc import round_trips


@pytest.mark.parametrize("kind", ["pipe", "queue"])
def test_messages_come_back_in_order_and_unchanged(kind: str) -> None:
    messages = [{"id": i, "payload": "x" * i} for i in range(50)]
    echoed, per_trip = round_trips(kind, messages)  # type: ignore[arg-type]
    assert echoed == messages
    assert echoed[7] is not messages[7]  # a copy that crossed a process boundary, not the object
    assert per_trip > 0
