"""Tests for the README's exercises. Deselected by default; run them with ``pytest -m exercise``
once you have done an exercise. They fail on the lesson as shipped: that is the point."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from demo.serving import ServerThread
from gateway.settings import Route
from tests.upstreams import Behaviour, probe_app

pytestmark = pytest.mark.exercise
KEY = {"X-API-Key": "demo-key"}


def test_exercise_1_route_has_its_own_limit(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    upstream = serve(probe_app(Behaviour()))
    route = {"name": "echo", "prefix": "/echo", "instances": [upstream.url]}
    strict = Route.model_validate({**route, "rate_per_s": 0.001, "burst": 2})
    gw = start_gateway(routes=[strict])
    statuses = [httpx.get(f"{gw.url}/echo/{i}", headers=KEY).status_code for i in range(3)]
    assert statuses == [200, 200, 429]


def test_exercise_3_cached_get_skips_the_upstream(
    serve: Callable[..., ServerThread], start_gateway: Callable[..., ServerThread]
) -> None:
    behaviour = Behaviour()
    upstream = serve(probe_app(behaviour))
    route = {"name": "echo", "prefix": "/echo", "instances": [upstream.url], "cache_ttl_s": 30}
    gw = start_gateway(routes=[Route.model_validate(route)])
    first = httpx.get(f"{gw.url}/echo/same", headers=KEY)
    second = httpx.get(f"{gw.url}/echo/same", headers=KEY)
    assert first.json() == second.json()
    assert behaviour.calls == 1
    assert "age" in second.headers
