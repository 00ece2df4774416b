"""Scale-out: two real instances sharing rooms through Redis pub/sub."""

from __future__ import annotations

import asyncio
import logging

import httpx2
import pytest
import redis.asyncio as aredis
from fastapi.testclient import TestClient
from redis.exceptions import ResponseError

from chat.app import create_app
from chat.backplane import Deliver
from chat.protocol import Direct, History, Message, Presence
from chat.redis_backplane import RedisBackplane
from tests.conftest import MakeSettings, Serve
from tools.client import ChatClient

pytestmark = pytest.mark.redis


async def ann_in_the_lobby(url: str) -> ChatClient:
    """ann, connected to `url`, has joined the lobby and seen her own presence frame."""
    ann = await ChatClient.connect(url, "ann")
    await ann.send(type="join", room="lobby")
    await ann.expect(lambda f: isinstance(f, Presence))
    return ann


async def send_until_one_comes_back(client: ChatClient, text: str) -> None:
    """Frames published before the listener is back are lost (pub/sub is at-most-once), so
    keep sending `text` (numbered) until one comes back through Redis."""
    async with asyncio.timeout(10):
        for attempt in range(1000):
            await client.send(type="message", room="lobby", text=f"{text} {attempt}")
            try:
                await client.expect(lambda f: isinstance(f, Message), within=0.5)
                break
            except TimeoutError:
                continue


async def test_clients_on_two_instances_share_rooms_presence_and_history(
    serve: Serve, make_settings: MakeSettings, redis_url: str, namespace: str
) -> None:
    settings = make_settings(redis_url=redis_url, namespace=namespace)
    async with serve(settings) as url_a, serve(settings) as url_b:
        assert url_a != url_b
        ann = await ChatClient.connect(url_a, "ann")
        bob = await ChatClient.connect(url_b, "bob")
        await ann.send(type="join", room="lobby")
        await ann.expect(lambda f: isinstance(f, Presence) and f.joined == "ann")
        await bob.send(type="join", room="lobby")
        # Presence is global: bob, on B, sees ann who is connected to A, and vice versa.
        snapshot = await bob.expect(lambda f: isinstance(f, History))
        assert isinstance(snapshot, History) and snapshot.users == ["ann", "bob"]
        for client in (ann, bob):
            frame = await client.expect(lambda f: isinstance(f, Presence) and f.joined == "bob")
            assert isinstance(frame, Presence) and frame.count == 2

        await ann.send(type="message", room="lobby", text="hello from A")
        got = await bob.expect(lambda f: isinstance(f, Message))
        assert isinstance(got, Message) and (got.user, got.text) == ("ann", "hello from A")

        await bob.send(type="direct", to="ann", text="psst from B")
        whisper = await ann.expect(lambda f: isinstance(f, Direct))
        assert isinstance(whisper, Direct) and (whisper.user, whisper.text) == (
            "bob",
            "psst from B",
        )

        # A newcomer on B gets the history written by A.
        cat = await ChatClient.connect(url_b, "cat")
        await cat.send(type="join", room="lobby")
        history = await cat.expect(lambda f: isinstance(f, History))
        assert isinstance(history, History)
        assert [m.text for m in history.messages] == ["hello from A"]

        await bob.close()
        frame = await ann.expect(lambda f: isinstance(f, Presence) and f.left == "bob")
        assert isinstance(frame, Presence) and frame.count == 2
        for client in (ann, cat):
            await client.close()


async def test_a_malformed_envelope_is_logged_and_the_listener_keeps_going(
    serve: Serve,
    make_settings: MakeSettings,
    redis_url: str,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(redis_url=redis_url, namespace=namespace)
    async with serve(settings) as url:
        ann = await ann_in_the_lobby(url)
        publisher = aredis.Redis.from_url(redis_url)
        try:
            with caplog.at_level(logging.ERROR, logger="chat.redis_backplane"):
                await publisher.publish(f"{namespace}:events", "garbage without a header")
                await ann.send(type="message", room="lobby", text="after the garbage")
                await ann.expect(lambda f: isinstance(f, Message) and f.text == "after the garbage")
        finally:
            await publisher.aclose()
        assert "dropped malformed envelope" in caplog.text
        await ann.close()


async def test_the_listener_resubscribes_after_its_redis_connection_is_killed(
    serve: Serve, make_settings: MakeSettings, redis_url: str, namespace: str
) -> None:
    settings = make_settings(redis_url=redis_url, namespace=namespace)
    async with serve(settings) as url:
        ann = await ann_in_the_lobby(url)
        admin = aredis.Redis.from_url(redis_url, decode_responses=True)
        try:
            # Only our own subscriber connection: other work may share this Redis.
            clients = await admin.client_list()
            mine = [c for c in clients if c.get("name") == f"{namespace}-backplane"]
            subscriber = [c for c in mine if "P" in c["flags"]]
            assert len(subscriber) == 1
            await admin.client_kill_filter(_id=subscriber[0]["id"])
        finally:
            await admin.aclose()

        await send_until_one_comes_back(ann, "after the kill")
        await ann.close()


async def test_redis_history_is_bounded_and_says_when_it_is_truncated(
    redis_url: str, namespace: str
) -> None:
    backplane = RedisBackplane(redis_url, namespace, history_size=2)
    try:
        for frame in ("m0", "m1"):
            await backplane.publish_message("lobby", frame)
        assert await backplane.history("lobby") == (["m0", "m1"], False)
        await backplane.publish_message("lobby", "m2")
        assert await backplane.history("lobby") == (["m1", "m2"], True)
        # Redis holds one frame more than the snapshot, never the whole conversation.
        assert await backplane._client.llen(f"{namespace}:history:lobby") == 3
        await backplane.publish_message("lobby", "m3")
        assert await backplane._client.llen(f"{namespace}:history:lobby") == 3
    finally:
        await backplane.close()


async def test_any_listener_error_is_logged_and_the_listener_resubscribes(
    serve: Serve,
    make_settings: MakeSettings,
    redis_url: str,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(redis_url=redis_url, namespace=namespace)
    async with serve(settings) as url:
        ann = await ann_in_the_lobby(url)

        # Not a lost connection this time: an error the listener did not plan for.
        dispatch = RedisBackplane._dispatch
        failures = [ResponseError("injected")]

        def failing_once(self: RedisBackplane, deliver: Deliver, data: str) -> None:
            if failures:
                raise failures.pop()
            dispatch(self, deliver, data)

        monkeypatch.setattr(RedisBackplane, "_dispatch", failing_once)
        with caplog.at_level(logging.ERROR, logger="chat.redis_backplane"):
            # The frame that met the error is lost; keep talking until one comes back.
            await send_until_one_comes_back(ann, "attempt")
        assert not failures  # the error did happen
        assert "lost Redis subscription (ResponseError: injected)" in caplog.text
        async with httpx2.AsyncClient(base_url=url) as http:
            response = await http.get("/health")
        assert (response.status_code, response.json()["status"]) == (200, "ok")
        await ann.close()


def test_health_is_503_when_the_listener_has_stopped(
    make_settings: MakeSettings,
    redis_url: str,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def dies_after_subscribing(self: RedisBackplane, deliver: Deliver) -> None:
        self._subscribed.set()
        raise RuntimeError("listener bug")

    monkeypatch.setattr(RedisBackplane, "_listen", dies_after_subscribing)
    settings = make_settings(redis_url=redis_url, namespace=namespace)
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert (response.status_code, response.json()["status"]) == (503, "degraded")
    assert "Redis listener stopped" in caplog.text and "listener bug" in caplog.text


async def test_a_join_under_traffic_gets_history_first_then_every_later_message_once(
    serve: Serve, make_settings: MakeSettings, redis_url: str, namespace: str
) -> None:
    """Given ann talking non-stop on instance A, when newcomers join the room on instance B,
    then each one gets its snapshot before any live frame, and snapshot plus live frames are
    every message ann sent, in order, each exactly once: no hole, no duplicate."""
    # History long enough to hold the whole test, so every snapshot starts at message 0.
    settings = make_settings(redis_url=redis_url, namespace=namespace, history_size=100_000)
    async with serve(settings) as url_a, serve(settings) as url_b:
        ann = await ann_in_the_lobby(url_a)
        sent = 0
        talking = True

        async def talk() -> None:
            # One message at a time, each as soon as the previous one came back through Redis:
            # a steady stream of live frames for the joins below to race.
            nonlocal sent
            while talking:
                text = str(sent)
                await ann.send(type="message", room="lobby", text=text)
                await ann.expect(lambda f, text=text: isinstance(f, Message) and f.text == text)
                sent += 1

        talker = asyncio.create_task(talk())
        newcomers = []
        try:
            for i in range(15):
                newcomer = await ChatClient.connect(url_b, f"new{i}")
                await newcomer.send(type="join", room="lobby")
                await newcomer.expect(lambda f: isinstance(f, History))
                newcomers.append(newcomer)
        finally:
            talking = False
            await talker
        # Said after every join had its snapshot: each newcomer must get it live.
        await ann.send(type="message", room="lobby", text="end")
        for newcomer in newcomers:
            await newcomer.expect(lambda f: isinstance(f, Message) and f.text == "end")
            frames = [f for f in newcomer.received if isinstance(f, (History, Message))]
            assert isinstance(frames[0], History), f"{newcomer.user} got a live frame first"
            snapshot = [m.text for m in frames[0].messages]
            live = [f.text for f in frames[1:] if isinstance(f, Message)]
            assert snapshot + live == [*map(str, range(sent)), "end"], newcomer.user
        for client in (ann, *newcomers):
            await client.close()
