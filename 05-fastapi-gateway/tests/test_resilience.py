"""Upstream failures: retries for idempotent methods only, 503/504/502, ejection and return."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from demo.serving import ServerThread
from gateway.settings import Route
from tests.conftest import wait_for
from tests.upstreams import CUT_SHORT, DRIP_HEAD, Behaviour, BrokenUpstream, probe_app

KEY = {"X-API-Key": "demo-key"}


@pytest.fixture
def behaviour() -> Iterator[Behaviour]:
    b = Behaviour()
    yield b
    b.release.set()  # let a hanging handler finish so its server can stop


def one_instance(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    behaviour: Behaviour,
    **policy: float,
) -> ServerThread:
    """One probe upstream behind two routes (/echo, /hang) with the given timeout/retries."""
    upstream = serve(probe_app(behaviour))
    routes = [
        Route.model_validate(
            {"name": name, "prefix": f"/{name}", "instances": [upstream.url], **policy}
        )  # fmt: skip
        for name in ("echo", "hang")
    ]
    return start_gateway(routes=routes)


def test_idempotent_request_is_retried_until_it_succeeds(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    behaviour: Behaviour,
) -> None:
    behaviour.fail_first = 2
    gw = one_instance(serve, start_gateway, behaviour, retries=2)
    r = httpx.put(f"{gw.url}/echo/item", headers=KEY, content=b"same body every time")
    assert r.status_code == 200
    assert r.json()["size"] == len(b"same body every time")  # the replayed body is whole
    assert behaviour.calls == 3


def test_post_is_never_retried(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    behaviour: Behaviour,
) -> None:
    behaviour.fail_first = 1
    gw = one_instance(serve, start_gateway, behaviour, retries=2)
    r = httpx.post(f"{gw.url}/echo/orders", headers=KEY, json={"n": 1})
    assert behaviour.calls == 1
    # The upstream's 503 (empty body) becomes the gateway's JSON error, with the same status.
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "upstream_unavailable"
    assert r.json()["error"]["message"] == "echo answered 503"


def test_retries_give_up_after_the_configured_number(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    behaviour: Behaviour,
) -> None:
    behaviour.fail_first = 100
    gw = one_instance(serve, start_gateway, behaviour, retries=2)
    r = httpx.get(f"{gw.url}/echo/x", headers=KEY)
    assert behaviour.calls == 3
    assert r.status_code == 503
    assert r.json()["error"] == {
        "code": "upstream_unavailable",
        "message": "echo answered 503",
        "request_id": r.headers["x-request-id"],
        "details": [],
    }


def test_dead_upstream_is_503_with_json(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    behaviour: Behaviour,
) -> None:
    dead = serve(probe_app(behaviour))
    dead.stop(keep_port=True)  # held: no other program can answer on it meanwhile
    gw = start_gateway(routes=[Route(name="gone", prefix="/echo", instances=[dead.url])])
    r = httpx.get(f"{gw.url}/echo/x", headers=KEY)
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "upstream_unavailable"
    # The last instance is never ejected, so the next request tries it again (and would
    # reach it if it were back); /ready tells the outage meanwhile.
    again = httpx.get(f"{gw.url}/echo/x", headers=KEY)
    assert again.status_code == 503
    assert again.json()["error"]["code"] == "upstream_unavailable"
    assert httpx.get(f"{gw.url}/ready").json()["upstreams"] == {"gone": []}


def test_slow_upstream_is_504_within_the_route_budget(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    behaviour: Behaviour,
) -> None:
    # A budget wide enough that connecting can never use it up, even on a starved machine
    # (that would be a 503): the upstream holds the request on an event until teardown,
    # so the budget always runs out while waiting for the answer. The client would give up
    # after 20 s, so an answer at all proves the gateway stopped waiting on its own.
    gw = one_instance(serve, start_gateway, behaviour, timeout_s=2.0)
    r = httpx.get(f"{gw.url}/hang", headers=KEY, timeout=20)
    assert r.status_code == 504
    assert r.json()["error"] == {
        "code": "upstream_timeout",
        "message": "hang: no answer in 2.0 s",
        "request_id": r.headers["x-request-id"],
        "details": [],
    }


def test_dripping_upstream_is_504_at_the_deadline(
    start_gateway: Callable[..., ServerThread],
) -> None:
    # Every read gets a byte within 0.8 s, so a per-read timeout of 2 s never fires and the
    # whole answer would arrive after 4.8 s. The route's 2 s are for the whole call.
    with BrokenUpstream(DRIP_HEAD, drip=b"abcdef", every_s=0.8) as drip:
        route = Route(name="drip", prefix="/echo", instances=[drip.url], timeout_s=2.0)
        gw = start_gateway(routes=[route])
        r = httpx.get(f"{gw.url}/echo/x", headers=KEY, timeout=20)
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "upstream_timeout"
    assert r.json()["error"]["message"] == "drip: answer not finished in 2.0 s"


def test_answer_cut_short_is_502_with_json(start_gateway: Callable[..., ServerThread]) -> None:
    # The headers arrive, the body breaks off. The gateway buffers small answers, so nothing
    # has reached the client yet and it can still say what happened instead of a bare 500.
    with BrokenUpstream(CUT_SHORT) as broken:
        gw = start_gateway(routes=[Route(name="broken", prefix="/echo", instances=[broken.url])])
        r = httpx.get(f"{gw.url}/echo/x", headers=KEY)
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "bad_gateway"
    assert "payload is not completed" in r.json()["error"]["message"]


def test_stopped_server_holds_its_port_and_refuses_connections(
    serve: Callable[..., ServerThread],
) -> None:
    server = serve(probe_app(Behaviour()))
    server.stop(keep_port=True)
    with pytest.raises(httpx.ConnectError):  # down, as a dead process would be
        httpx.get(f"{server.url}/health")
    with socket.socket() as other, pytest.raises(OSError):
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", server.port))  # nobody else can take the port meanwhile
    server.restart()
    assert httpx.get(f"{server.url}/health").status_code == 200


@contextmanager
def pair_behind_a_gateway(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    a: Behaviour,
) -> Iterator[tuple[ServerThread, ServerThread, httpx.Client]]:
    """Two probe upstreams as the instances of one route "pair" on /echo: "a" behaves as told,
    "b" always answers. Yields both servers and a client of the gateway."""
    server_a, server_b = serve(probe_app(a)), serve(probe_app(Behaviour(name="b")))
    instances = [server_a.url, server_b.url]
    gw = start_gateway(routes=[Route(name="pair", prefix="/echo", instances=instances)])
    with httpx.Client(base_url=gw.url, headers=KEY, timeout=10) as client:
        yield server_a, server_b, client


def healthy(client: httpx.Client) -> list[str]:
    """The instances of "pair" the gateway currently sends requests to."""
    return client.get("/ready").json()["upstreams"]["pair"]


def test_failed_instance_is_ejected_then_returns_after_health_check(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    with pair_behind_a_gateway(serve, start_gateway, Behaviour(name="a")) as (a, b, client):
        a.stop(keep_port=True)  # held, so nothing else can take it before "a" comes back
        # Every GET still succeeds: the one that hits "a" is retried on "b", and "a" is ejected.
        answered_by = {client.get("/echo/x").headers["x-instance"] for _ in range(4)}
        assert answered_by == {"b"}
        assert healthy(client) == [b.url]

        a.restart(probe_app(Behaviour(name="a")))  # back on the same address
        wait_for(lambda: healthy(client) == [a.url, b.url], what="instance a restored")
        answered_by = {client.get("/echo/x").headers["x-instance"] for _ in range(4)}
        assert answered_by == {"a", "b"}


def test_instance_answering_503_is_ejected_then_returns(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    # "a" is up but answers 503 to everything: as useless as a dead instance.
    sick = Behaviour(name="a", fail_first=1000, unhealthy=True)
    with pair_behind_a_gateway(serve, start_gateway, sick) as (a, b, client):
        answered_by = {client.get("/echo/x").headers["x-instance"] for _ in range(6)}
        assert answered_by == {"b"}  # each 503 retried on "b"
        assert sick.calls == 5  # eject_after_5xx (5) in a row, then out of the rotation
        assert healthy(client) == [b.url]

        sick.fail_first, sick.unhealthy = 0, False
        wait_for(lambda: healthy(client) == [a.url, b.url], what="instance a restored")


def test_one_500_does_not_eject_a_healthy_instance(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    # One request hits a bug in "a": that is the application's answer about that request,
    # not a sign that "a" is down. It passes through, and "a" stays in the rotation.
    once = Behaviour(name="a", fail_first=1, fail_status=500)
    with pair_behind_a_gateway(serve, start_gateway, once) as (a, b, client):
        assert client.get("/echo/x").status_code == 500
        assert healthy(client) == [a.url, b.url]
        answered_by = {client.get("/echo/x").headers["x-instance"] for _ in range(4)}
        assert answered_by == {"a", "b"}


def test_last_instance_is_not_ejected_by_one_slow_request(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    behaviour: Behaviour,
) -> None:
    upstream = serve(probe_app(behaviour))
    # One route for /hang and /echo, one failure ejects, and no health check comes to help.
    solo = Route(name="solo", prefix="/", instances=[upstream.url], timeout_s=2.0)
    gw = start_gateway(routes=[solo], eject_after_failures=1, health_interval_s=60)
    assert httpx.get(f"{gw.url}/hang", headers=KEY, timeout=10).status_code == 504
    # Ejecting the only instance would refuse every request for a minute; it is kept.
    r = httpx.get(f"{gw.url}/echo/x", headers=KEY)
    assert r.status_code == 200
    assert httpx.get(f"{gw.url}/ready").json()["upstreams"] == {"solo": [upstream.url]}


def test_all_instances_down_makes_ready_503(
    serve: Callable[..., ServerThread],
    start_gateway: Callable[..., ServerThread],
    behaviour: Behaviour,
) -> None:
    upstream = serve(probe_app(behaviour))
    gw = start_gateway(routes=[Route(name="solo", prefix="/echo", instances=[upstream.url])])
    assert httpx.get(f"{gw.url}/ready").status_code == 200
    upstream.stop(keep_port=True)
    httpx.get(f"{gw.url}/echo/x", headers=KEY)
    ready = httpx.get(f"{gw.url}/ready")
    assert ready.status_code == 503
    assert ready.json()["upstreams"] == {"solo": []}
