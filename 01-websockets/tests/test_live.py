"""Real uvicorn servers and the `websockets` client: lifecycle, heartbeat, slow consumers."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx2
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chat.protocol import SERVER_FRAME, Error, Message, Presence, ServerFrame
from tests.conftest import MakeSettings, Serve
from tools.client import ChatClient, Predicate, fetch_token, ws_url


def left(user: str, reason: str | None = None) -> Predicate:
    def match(frame: ServerFrame) -> bool:
        return isinstance(frame, Presence) and frame.left == user and reason in (None, frame.reason)

    return match


def said(text: str) -> Predicate:
    return lambda frame: isinstance(frame, Message) and frame.text == text


def is_error(frame: ServerFrame) -> bool:
    return isinstance(frame, Error)


def saw(client: ChatClient, predicate: Predicate) -> Callable[[], bool]:
    """A condition: `client` has received a frame matching `predicate`."""
    return lambda: any(predicate(f) for f in client.received)


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for a condition with a deadline, polling briefly (never a fixed sleep)."""
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


async def health(url: str) -> dict[str, int | str]:
    async with httpx2.AsyncClient(base_url=url) as http:
        return dict((await http.get("/health")).json())


async def wait_for_connections(url: str, count: int) -> None:
    async with asyncio.timeout(5):
        while True:
            if (await health(url))["connections"] == count:
                return
            await asyncio.sleep(0.02)


async def test_client_close_removes_presence_and_the_connection(server_url: str) -> None:
    ann = await ChatClient.connect(server_url, "ann")
    bob = await ChatClient.connect(server_url, "bob")
    for client in (ann, bob):
        await client.send(type="join", room="lobby")
    await ann.expect(lambda f: isinstance(f, Presence) and f.joined == "bob")

    await bob.close()  # a clean close from the client side (code 1000)
    frame = await ann.expect(left("bob"))
    assert isinstance(frame, Presence)
    assert (frame.count, frame.reason) == (1, "disconnect")
    await wait_for_connections(server_url, 1)
    await ann.close()
    await wait_for_connections(server_url, 0)


async def test_server_shutdown_closes_clients_with_1012(
    serve: Serve, make_settings: MakeSettings
) -> None:
    async with serve(make_settings()) as url:
        ann = await ChatClient.connect(url, "ann")
    # Leaving the block stopped uvicorn, which tells clients "service restart".
    assert await ann.closed() == 1012
    await ann.close()


async def test_silent_client_is_dropped_by_the_heartbeat(
    serve: Serve, make_settings: MakeSettings
) -> None:
    # The watcher answers every ping within milliseconds; 2 s of silence is only the ghost's
    # (server and clients share one event loop here, and a loaded machine can pause it).
    settings = make_settings(heartbeat_interval=0.05, heartbeat_timeout=2.0)
    async with serve(settings) as url:
        watcher = await ChatClient.connect(url, "watcher")
        ghost = await ChatClient.connect(url, "ghost", answer_pings=False)
        for client in (watcher, ghost):
            await client.send(type="join", room="lobby")
        frame = await watcher.expect(left("ghost"))
        assert isinstance(frame, Presence)
        assert (frame.count, frame.reason) == (1, "heartbeat timeout")
        assert await ghost.closed() == 1011
        # The watcher answers pings, so it is still connected and served.
        await watcher.send(type="message", room="lobby", text="still here")
        await watcher.expect(lambda f: isinstance(f, Message) and f.text == "still here")
        await wait_for_connections(url, 1)
        for client in (watcher, ghost):
            await client.close()


async def test_oversize_frame_is_refused_by_the_server_with_1009(
    serve: Serve, make_settings: MakeSettings
) -> None:
    async with serve(make_settings(max_frame_bytes=1024)) as url:
        ann = await ChatClient.connect(url, "ann")
        await ann.ws.send("x" * 5000)
        assert await ann.closed() == 1009
        await ann.close()


async def stalled_socket(url: str, name: str) -> ClientConnection:
    """A client that reads nothing: tiny kernel receive buffer, tiny library queue."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    sock.setblocking(False)
    token = await fetch_token(url, name)
    return await connect(ws_url(url, token), sock=sock, max_queue=1, compression=None)


async def test_a_stalled_reader_is_cut_off_without_delaying_the_others(
    serve: Serve, make_settings: MakeSettings
) -> None:
    # The loop below sends as fast as the echoes come back: the token bucket must refuse none
    # of those frames, or the test would wait for an echo the server never meant to send.
    # No pings either: the test counts every frame addressed to "slow".
    settings = make_settings(
        send_queue=16,
        close_timeout=5.0,
        rate_burst=1_000_000,
        heartbeat_interval=3600,
        heartbeat_timeout=7200,
    )
    # A small kernel send buffer in front of every socket, so "slow" stops taking bytes after
    # a few KB whatever the host's TCP tuning (Linux autotunes it up to 4 MB otherwise).
    async with serve(settings, send_buffer=4096) as url:
        fast = [await ChatClient.connect(url, n) for n in ("ann", "bob")]
        slow = await stalled_socket(url, "slow")
        for client in fast:
            await client.send(type="join", room="lobby")
        await slow.send('{"type":"join","room":"lobby"}')
        await fast[0].expect(lambda f: isinstance(f, Presence) and f.joined == "slow")

        # Keep talking until the server gives up on the client that does not read. That takes
        # as many messages as the buffers in front of "slow" hold: two small kernel buffers,
        # the server's 64 KB transport buffer, then its outbox of 16. The cap of 1,000
        # near-limit messages (~2 MB) is only there so a broken server cannot loop forever.
        sent: list[str] = []
        payload = "y" * 1_900
        while not saw(fast[0], left("slow"))() and len(sent) < 1_000:
            text = f"{len(sent)} {payload}"
            await fast[0].send(type="message", room="lobby", text=text)
            reply = await fast[0].expect(lambda f, text=text: said(text)(f) or is_error(f))
            assert not isinstance(reply, Error), reply  # e.g. refused by the rate limit
            sent.append(text)

        # The readers got every message, in order, while "slow" never read a byte.
        for client in fast:
            await until(saw(client, left("slow", "slow consumer")))
            got = [f.text for f in client.received if isinstance(f, Message)]
            assert got == sent
        assert (await health(url))["slow_disconnects"] == 1

        # When "slow" finally reads, it finds its backlog and then the reason it was cut off,
        # with the number of frames it will never get.
        backlog: list[ServerFrame] = []
        try:
            async with asyncio.timeout(10):
                async for raw in slow:
                    backlog.append(SERVER_FRAME.validate_json(raw))
        except ConnectionClosed:
            pass
        assert slow.close_code == 1013
        match = re.fullmatch(r"slow consumer: (\d+) frames dropped", slow.close_reason or "")
        assert match, slow.close_reason
        dropped = int(match[1])
        # What it read has no holes: welcome, its snapshot, its own join, then a prefix of the
        # conversation. Together with the dropped count it accounts for every frame the server
        # addressed to it: the three above and each message published before it was removed,
        # which are the messages the others got before its "left" presence.
        types = [f.type for f in backlog]
        assert types[:3] == ["welcome", "history", "presence"]
        got = [f.text for f in backlog if isinstance(f, Message)]
        assert got == sent[: len(got)] and len(got) < len(sent)
        heard = fast[0].received
        cut = next(i for i, f in enumerate(heard) if left("slow")(f))
        addressed = 3 + sum(isinstance(f, Message) for f in heard[:cut])
        assert len(backlog) + dropped == addressed
        for client in fast:
            await client.close()
