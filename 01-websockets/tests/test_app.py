"""In-process tier: the FastAPI app under TestClient, one protocol rule per test."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from chat.app import create_app
from chat.hub import Hub
from chat.memory import MemoryBackplane
from chat.settings import DEV_SECRET
from chat.tokens import issue_token
from tests.conftest import Connect, MakeSettings, token_for


def join(ws: WebSocketTestSession, room: str) -> dict[str, Any]:
    """Join; return the snapshot (history frame) after checking the presence that follows."""
    ws.send_json({"type": "join", "room": room})
    snapshot: dict[str, Any] = ws.receive_json()
    assert snapshot["type"] == "history"
    presence = ws.receive_json()
    assert (presence["type"], presence["count"]) == ("presence", len(snapshot["users"]))
    return snapshot


def test_session_refuses_a_bad_name_with_422_json(client: TestClient) -> None:
    response = client.post("/session", json={"name": "no spaces allowed"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_index_serves_the_browser_client(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "new WebSocket(" in response.text


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "missing token"),
        ("?token=forged.token.value", "invalid token"),
        (f"?token={issue_token('ann', 'x' * 32, 60)}", "invalid token"),
        (f"?token={issue_token('ann', DEV_SECRET, 60, now=time.time() - 7200)}", "token expired"),
        (f"?token={issue_token('ann', DEV_SECRET, 60, now=time.time() - 7200)}x", "invalid token"),
    ],
)
def test_handshake_without_a_valid_token_closes_1008(
    client: TestClient, query: str, reason: str
) -> None:
    with client.websocket_connect(f"/ws{query}") as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert (exc.value.code, exc.value.reason) == (1008, reason)


def test_join_sends_history_then_presence_and_messages_reach_the_room(open_ws: Connect) -> None:
    ann, bob = open_ws("ann"), open_ws("bob")
    assert join(ann, "lobby")["users"] == ["ann"]
    ann.send_json({"type": "message", "room": "lobby", "text": "before bob"})
    assert ann.receive_json()["text"] == "before bob"

    bob.send_json({"type": "join", "room": "lobby"})
    history = bob.receive_json()
    assert [m["text"] for m in history["messages"]] == ["before bob"]
    assert history["truncated"] is False
    assert history["users"] == ["ann", "bob"]
    presence = bob.receive_json()
    assert (presence["count"], presence["joined"]) == (2, "bob")
    assert ann.receive_json() == presence  # the same frame, fanned out

    bob.send_json({"type": "message", "room": "lobby", "text": "hi ann"})
    got = ann.receive_json()
    assert (got["type"], got["user"], got["room"], got["text"]) == (
        "message",
        "bob",
        "lobby",
        "hi ann",
    )
    assert got == bob.receive_json()
    assert isinstance(got["ts"], float) and len(got["id"]) == 32


def test_the_history_snapshot_says_when_the_room_said_more_than_it_holds(
    make_settings: MakeSettings,
) -> None:
    with (
        TestClient(create_app(make_settings(history_size=2))) as client,
        client.websocket_connect(f"/ws?token={token_for(client, 'ann')}") as ann,
    ):
        assert ann.receive_json()["type"] == "welcome"

        def rejoin() -> dict[str, Any]:
            ann.send_json({"type": "leave", "room": "lobby"})  # no frame back: ann has left
            return join(ann, "lobby")

        assert join(ann, "lobby")["truncated"] is False
        for text in ("one", "two"):
            ann.send_json({"type": "message", "room": "lobby", "text": text})
            assert ann.receive_json()["text"] == text
        snapshot = rejoin()
        assert ([m["text"] for m in snapshot["messages"]], snapshot["truncated"]) == (
            ["one", "two"],
            False,
        )
        ann.send_json({"type": "message", "room": "lobby", "text": "three"})
        assert ann.receive_json()["text"] == "three"
        snapshot = rejoin()
        # "one" is gone, and the snapshot says so instead of looking like the whole story.
        assert ([m["text"] for m in snapshot["messages"]], snapshot["truncated"]) == (
            ["two", "three"],
            True,
        )


def test_bad_frames_get_an_error_and_the_connection_stays_open(open_ws: Connect) -> None:
    ws = open_ws("ann")
    ws.send_text("{oops")
    assert ws.receive_json()["code"] == "bad_json"
    ws.send_json({"type": "teleport"})
    assert ws.receive_json()["code"] == "unknown_type"
    ws.send_json({"type": "message", "room": "lobby", "text": "not joined"})
    assert ws.receive_json()["code"] == "not_in_room"
    ws.send_json({"type": "direct", "to": "nobody", "text": "hello?"})
    assert ws.receive_json()["code"] == "user_offline"
    # Still alive: a valid frame works after all of the above (binary frames: see below).
    assert join(ws, "lobby")["users"] == ["ann"]


def test_oversize_frame_closes_1009(open_ws: Connect) -> None:
    ws = open_ws("ann")
    ws.send_text("x" * 1025)
    with pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert exc.value.code == 1009


def test_rate_limit_refuses_frames_beyond_the_burst_and_says_so(open_ws: Connect) -> None:
    ws = open_ws("ann")
    join(ws, "lobby")  # 1 of the burst of 5
    for n in range(6):
        ws.send_json({"type": "message", "room": "lobby", "text": f"m{n}"})
    replies = [ws.receive_json() for _ in range(6)]
    assert [r["type"] for r in replies[:4]] == ["message"] * 4
    assert [r.get("code") for r in replies[4:]] == ["rate_limited", "rate_limited"]


def test_direct_message_reaches_only_sender_and_recipient(open_ws: Connect) -> None:
    ann, bob, cat = (open_ws(n) for n in ("ann", "bob", "cat"))
    ann.send_json({"type": "direct", "to": "bob", "text": "psst"})
    for ws in (bob, ann):
        frame = ws.receive_json()
        assert (frame["type"], frame["user"], frame["to"], frame["text"]) == (
            "direct",
            "ann",
            "bob",
            "psst",
        )
    cat.send_json({"type": "join", "room": "quiet"})
    assert cat.receive_json()["type"] == "history"  # cat's next frame is its own, not the whisper


def test_leave_updates_presence_for_those_who_stay(open_ws: Connect) -> None:
    ann, bob = open_ws("ann"), open_ws("bob")
    join(ann, "lobby")
    join(bob, "lobby")
    assert ann.receive_json()["joined"] == "bob"
    bob.send_json({"type": "leave", "room": "lobby"})
    presence = ann.receive_json()
    assert (presence["count"], presence["left"], presence["reason"]) == (1, "bob", "leave")
    bob.send_json({"type": "leave", "room": "lobby"})
    assert bob.receive_json()["code"] == "not_in_room"


def test_a_second_tab_of_the_same_user_is_not_a_presence_change(open_ws: Connect) -> None:
    ann, bob_tab1, bob_tab2 = open_ws("ann"), open_ws("bob"), open_ws("bob")
    join(ann, "lobby")
    join(bob_tab1, "lobby")
    assert ann.receive_json()["joined"] == "bob"
    bob_tab2.send_json({"type": "join", "room": "lobby"})
    assert bob_tab2.receive_json()["users"] == ["ann", "bob"]  # snapshot, but no broadcast
    bob_tab1.send_json({"type": "leave", "room": "lobby"})  # bob is still here in tab 2
    bob_tab2.send_json({"type": "leave", "room": "lobby"})
    presence = ann.receive_json()  # the first frame ann gets since bob's first join
    assert (presence["left"], presence["count"]) == ("bob", 1)


def test_a_bug_while_handling_a_frame_is_logged_and_closes_only_that_socket_with_1011(
    open_ws: Connect, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ann, bob = open_ws("ann"), open_ws("bob")
    join(ann, "lobby")

    async def broken_say(*args: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(Hub, "say", broken_say)
    ann.send_json({"type": "message", "room": "lobby", "text": "trigger"})
    with pytest.raises(WebSocketDisconnect) as exc:
        ann.receive_json()
    assert (exc.value.code, exc.value.reason) == (1011, "internal error")
    assert "crashed" in caplog.text and "boom" in caplog.text
    assert join(bob, "lobby")["users"] == ["bob"]  # the server and other sockets carry on


def test_a_broker_failure_closes_1011_and_the_hub_still_forgets_the_socket(
    client: TestClient,
    open_ws: Connect,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ann = open_ws("ann")
    join(ann, "lobby")
    join(ann, "other")

    async def broker_down(*args: object) -> None:
        raise RedisConnectionError("Redis went away")  # what the hub sees when Redis is down

    for name in ("publish_message", "remove_member", "set_online"):
        monkeypatch.setattr(MemoryBackplane, name, broker_down)
    ann.send_json({"type": "message", "room": "lobby", "text": "into the void"})
    with pytest.raises(WebSocketDisconnect) as exc:
        ann.receive_json()
    assert (exc.value.code, exc.value.reason) == (1011, "internal error")
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    assert (hub.connections, dict(hub.rooms), dict(hub.users)) == (set(), {}, {})
    assert "could not announce leaving 'lobby'" in caplog.text
    assert "could not announce leaving 'other'" in caplog.text


def test_a_broker_failure_at_connect_closes_1013_and_leaves_nothing_behind(
    client: TestClient,
    open_ws: Connect,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broker_down(*args: object) -> None:
        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(MemoryBackplane, "set_online", broker_down)
    with (
        client.websocket_connect(f"/ws?token={token_for(client, 'ann')}") as ws,
        pytest.raises(WebSocketDisconnect) as exc,
    ):
        ws.receive_json()
    assert (exc.value.code, exc.value.reason) == (1013, "broker unavailable, try again later")
    assert "could not register with the memory broker" in caplog.text
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    assert (hub.connections, dict(hub.users)) == (set(), {})
    assert client.get("/health").json()["connections"] == 0

    monkeypatch.undo()  # the broker is back: the same user connects and is served
    ann = open_ws("ann")
    assert join(ann, "lobby")["users"] == ["ann"]


def test_binary_frames_pay_the_rate_limit_like_text_frames(open_ws: Connect) -> None:
    ws = open_ws("ann")
    for _ in range(8):  # the burst is 5
        ws.send_bytes(b"\x00\x01")
    codes = [ws.receive_json()["code"] for _ in range(8)]
    assert codes == ["bad_frame"] * 5 + ["rate_limited"] * 3
    ws.send_json({"type": "join", "room": "lobby"})  # the binary flood spent the budget
    assert ws.receive_json()["code"] == "rate_limited"
