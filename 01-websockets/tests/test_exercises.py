"""Tests for the README's exercises. Deselected by default; run them with `pytest -m exercise`.

They fail until you implement the exercise: that is the point.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chat.app import create_app
from tests.conftest import Connect, MakeSettings
from tests.test_app import join

pytestmark = pytest.mark.exercise


@pytest.fixture
def client(make_settings: MakeSettings) -> Iterator[TestClient]:
    """The default rate limit (a burst of 5 frames) would refuse the 6th frame of exercise 2."""
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client


def test_exercise_1_typing_indicator_reaches_the_room_but_not_history(open_ws: Connect) -> None:
    ann, bob = open_ws("ann"), open_ws("bob")
    join(ann, "lobby")
    join(bob, "lobby")
    ann.receive_json()  # bob's presence
    ann.send_json({"type": "typing", "room": "lobby"})
    frame = bob.receive_json()
    assert (frame["type"], frame["room"], frame["user"]) == ("typing", "lobby", "ann")

    cat = open_ws("cat")
    assert join(cat, "lobby")["messages"] == []  # a typing hint is not a message


def test_exercise_2_rejoin_with_since_returns_only_newer_messages(open_ws: Connect) -> None:
    ann = open_ws("ann")
    join(ann, "lobby")
    ids = []
    for text in ("one", "two", "three"):
        ann.send_json({"type": "message", "room": "lobby", "text": text})
        ids.append(ann.receive_json()["id"])
    ann.send_json({"type": "leave", "room": "lobby"})  # no frame back: ann has left the room

    ann.send_json({"type": "join", "room": "lobby", "since": ids[0]})
    history = ann.receive_json()
    assert [m["text"] for m in history["messages"]] == ["two", "three"]
