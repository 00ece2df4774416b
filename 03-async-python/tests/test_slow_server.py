"""The local slow server: keep-alive, a per-request delay, and a clean stop."""

from __future__ import annotations

import os
import socket
import sys

import httpx
import pytest

from tools.slow_server import SlowServer


async def test_one_connection_carries_several_requests(slow_server: SlowServer) -> None:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as client:
        answers = [(await client.get(f"{slow_server.url}/a/{i}")).json() for i in range(3)]

    assert [a["path"] for a in answers] == ["/a/0", "/a/1", "/a/2"]
    assert {a["delay_ms"] for a in answers} == {10.0}


async def test_delay_can_be_chosen_per_request(slow_server: SlowServer) -> None:
    async with httpx.AsyncClient() as client:
        answer = (await client.get(f"{slow_server.url}/x?delay_ms=0")).json()

    assert answer == {"method": "GET", "path": "/x?delay_ms=0", "delay_ms": 0.0}


def test_garbage_closes_only_that_connection(slow_server: SlowServer) -> None:
    with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert sock.recv(100) == b""  # closed without an answer

    assert httpx.get(f"{slow_server.url}/still-up?delay_ms=0").status_code == 200


def test_stop_closes_the_port_and_idle_connections() -> None:
    with httpx.Client() as client:
        with SlowServer(delay=0) as server:
            assert client.get(f"{server.url}/idle").status_code == 200  # a keep-alive conn
            port = server.port

        # Nothing else in this test binds ports; another process on the machine could take the
        # freed one in between, which is why this checks right away.
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_server_that_dies_before_it_reports_is_noticed_at_once() -> None:
    # An address that cannot be bound: the child fails in start_server and exits. The parent
    # sees end of file on the pipe (it closed its copy of the send end), well before the
    # timeout - which is set long, so a parent that waited it out would say "did not start".
    server = SlowServer(host="256.0.0.1", start_timeout=60)

    with pytest.raises(RuntimeError, match=r"exited \(code 1\) before it reported its port"):
        server.__enter__()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
def test_start_and_stop_leave_no_descriptor_open() -> None:
    before = len(os.listdir("/proc/self/fd"))

    servers = []
    for _ in range(3):  # the objects are kept alive: a leak cannot hide behind the GC
        with SlowServer(delay=0) as server:
            servers.append(server)

    assert len(os.listdir("/proc/self/fd")) == before
