"""Unit tier: the protocol, tokens, rate limiter and memory backplane, no sockets."""

from __future__ import annotations

import asyncio
import time
from typing import cast

import jwt
import pytest
from fastapi import WebSocket
from pydantic import ValidationError

from chat.backplane import decode, encode, users_of
from chat.connection import Connection
from chat.endpoint import heartbeat
from chat.hub import Hub
from chat.memory import MemoryBackplane
from chat.protocol import SERVER_FRAME, Error, Join, Message, Say, Whisper, parse_client_frame
from chat.ratelimit import TokenBucket
from chat.settings import Settings, masked
from chat.tokens import TokenError, issue_token, read_token

SECRET = "s" * 32


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"type":"join","room":"lobby"}', Join(type="join", room="lobby")),
        ('{"type":"message","room":"a-1","text":"hi"}', Say(type="message", room="a-1", text="hi")),
        ('{"type":"direct","to":"Bob_2","text":"x"}', Whisper(type="direct", to="Bob_2", text="x")),
    ],
)
def test_valid_frames_parse_to_their_model(raw: str, expected: object) -> None:
    assert parse_client_frame(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ('{"type":"shout","room":"x"}', "unknown_type"),
        ('{"room":"x"}', "unknown_type"),
        ('{"type":"join","room":"Has Spaces"}', "invalid"),
        ('{"type":"message","room":"x","text":""}', "invalid"),
        ('{"type":"join","room":"x","extra":1}', "invalid"),
        ("[1, 2]", "invalid"),
    ],
)
def test_bad_frames_become_error_frames(raw: str, code: str) -> None:
    result = parse_client_frame(raw)
    assert isinstance(result, Error)
    assert result.code == code
    assert result.detail


def test_invalid_field_error_names_the_field() -> None:
    result = parse_client_frame('{"type":"message","room":"x","text":""}')
    assert isinstance(result, Error)
    assert result.detail.startswith("text:")


def test_server_frames_round_trip_through_the_union() -> None:
    original = Message(room="lobby", user="ann", text="hello")
    parsed = SERVER_FRAME.validate_json(original.model_dump_json())
    assert parsed == original
    assert len(parsed.id) == 32


def test_token_round_trip() -> None:
    assert read_token(issue_token("ann", SECRET, ttl=60), SECRET) == "ann"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "missing token"),
        ("", "missing token"),
        ("not-a-jwt", "invalid token"),
        (issue_token("ann", "t" * 32, ttl=60), "invalid token"),  # signed with another key
        (issue_token("ann", SECRET, ttl=60, now=time.time() - 120), "token expired"),
        (jwt.encode({"sub": "ann", "aud": "chat"}, SECRET, algorithm="HS256"), "invalid token"),
        (
            jwt.encode({"sub": "ann", "aud": "chat", "exp": 2**40}, None, algorithm="none"),
            "invalid token",
        ),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(token: str | None, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        read_token(token, SECRET)


def test_token_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    now = [100.0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5  # half a second at 2/s buys exactly one frame
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] += 60  # a long pause refills only up to the burst
    assert sum(bucket.take() for _ in range(10)) == 3


def test_envelope_carries_the_frame_untouched() -> None:
    frame = '{"type":"message","text":"line one\\nline two: yes"}'
    assert decode(encode("room", "lobby", frame)) == ("room", "lobby", frame)
    with pytest.raises(ValueError):
        decode("topic:x\n{}")


def test_users_of_counts_each_user_once_across_tabs() -> None:
    assert users_of({"bob|1", "ann|2", "bob|3"}) == ["ann", "bob"]


async def test_memory_backplane_presence_history_and_delivery() -> None:
    delivered: list[tuple[str, str, str]] = []
    backplane = MemoryBackplane(history_size=2)
    await backplane.start(lambda kind, target, frame: delivered.append((kind, target, frame)))

    assert await backplane.add_member("lobby", "ann|1") == ["ann|1"]
    assert sorted(await backplane.add_member("lobby", "bob|2")) == ["ann|1", "bob|2"]
    assert await backplane.remove_member("lobby", "ann|1") == ["bob|2"]
    assert await backplane.remove_member("lobby", "bob|2") == []

    await backplane.publish_message("lobby", "m0")
    await backplane.publish_message("lobby", "m1")
    assert await backplane.history("lobby") == (["m0", "m1"], False)  # everything, no gap
    await backplane.publish_message("lobby", "m2")
    # Bounded: the oldest is gone, and the snapshot says older messages exist.
    assert await backplane.history("lobby") == (["m1", "m2"], True)

    await backplane.set_online("ann", "1", True)
    assert await backplane.is_online("ann")
    await backplane.set_online("ann", "1", False)
    assert not await backplane.is_online("ann")

    await backplane.publish("user", "bob", "{}")
    # Every kept message was published too; a plain publish is not kept.
    rooms = [("room", "lobby", m) for m in ("m0", "m1", "m2")]
    assert delivered == [*rooms, ("user", "bob", "{}")]


async def test_the_heartbeat_does_not_count_a_stall_of_the_server_as_client_silence() -> None:
    now = [1000.0]
    stalls = [5.0]  # the first wake-up comes 5 s late: the server itself was frozen

    async def sleep(seconds: float) -> None:
        now[0] += seconds + (stalls.pop() if stalls else 0.0)

    conn = Connection(cast(WebSocket, None), "ann", 16, TokenBucket(1.0, 1))
    conn.last_seen = now[0]
    # A client that never answers, interval 1 s, limit 3 s: the stall alone (6 s of silence
    # on the clock) would drop it at once; counted fairly it gets three pings first.
    await asyncio.wait_for(heartbeat(conn, 1.0, 3.0, clock=lambda: now[0], sleep=sleep), 5)
    pings = [SERVER_FRAME.validate_json(conn.outbox.get_nowait()) for _ in range(3)]
    assert [p.type for p in pings] == ["ping"] * 3 and conn.outbox.empty()
    assert (conn.close_code, conn.close_reason) == (1011, "heartbeat timeout")
    assert now[0] == 1000.0 + 5.0 + 4 * 1.0  # dropped on the fourth wake-up


async def test_pongs_that_answer_a_ping_are_free_and_a_pong_flood_is_rate_limited() -> None:
    hub = Hub(MemoryBackplane(history_size=10), max_rooms=1)
    await hub.start()
    # One frame of burst, and it practically never refills.
    conn = Connection(cast(WebSocket, None), "ann", 64, TokenBucket(0.001, 1))
    pong = '{"type":"pong"}'

    def replies() -> list[str]:
        frames = []
        while not conn.outbox.empty():
            frames.append(SERVER_FRAME.validate_json(conn.outbox.get_nowait()))
        return [f.code if isinstance(f, Error) else f.type for f in frames]

    for _ in range(20):  # a well-behaved client answers every ping: never refused
        conn.ping()
        await hub.handle(conn, pong)
    assert replies() == ["ping"] * 20

    await hub.handle(conn, pong)  # unasked for: takes the one token
    await hub.handle(conn, pong)  # and the next one is refused, and told so
    assert replies() == ["rate_limited"]
    await hub.handle(conn, '{"type":"join","room":"lobby"}')
    assert replies() == ["rate_limited"]  # the flood spent the budget for real frames too


def test_settings_never_show_their_secrets() -> None:
    settings = Settings(
        _env_file=None, redis_url="redis://ann:hunter2@localhost:6379/0", secret="k" * 40
    )
    assert "hunter2" not in repr(settings) and "k" * 40 not in repr(settings)
    assert masked(settings.redis_url or "") == "redis://ann:***@localhost:6379/0"
    assert masked("redis://localhost:6379/0?password=hunter2") == (
        "redis://localhost:6379/0?password=***"
    )


def test_a_refused_redis_url_never_shows_its_password_even_in_a_full_traceback() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, redis_url="redis://ann:hunter2@localhost:notaport/0")
    assert "hunter2" not in str(refused.value)
    assert "redis://ann:***@localhost:notaport/0" in str(refused.value)
