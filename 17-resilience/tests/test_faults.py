"""The fault injector does what it is told, repeatably; and what its drip teaches about
httpx's per-operation timeouts against a real deadline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from faults.app import Faults, create_app
from resilience.timeouts import with_deadline, with_read_timeout
from tests.conftest import FakeClock
from tools.serving import ServerThread


def statuses(url: str, n: int) -> list[int]:
    with httpx.Client(base_url=url) as client:
        return [client.get(f"/work/{i}").status_code for i in range(n)]


def test_the_same_seed_fails_the_same_calls(serve: Callable[[Any], ServerThread]) -> None:
    faults = Faults(error_rate=0.3, latency_ms=0, seed=42)
    a, b = serve(create_app(faults)), serve(create_app(faults))
    first, second = statuses(a.url, 30), statuses(b.url, 30)
    assert first == second
    assert 3 <= first.count(503) <= 18  # about 30%, not all or nothing


def test_an_outage_window_fails_everything_inside_it(
    serve: Callable[[Any], ServerThread], clock: FakeClock
) -> None:
    server = serve(create_app(Faults(latency_ms=0, outages=[(1.0, 2.0)]), clock=clock))
    seen = []
    for _ in range(4):  # at 0, 1, 2 and 3 s after start
        seen += statuses(server.url, 1)
        clock.advance(1.0)
    assert seen == [200, 503, 200, 200]
    # New faults start their windows from the moment they are set.
    httpx.put(f"{server.url}/faults", json={"latency_ms": 0, "outages": [[0, 5]]})
    assert statuses(server.url, 1) == [503]
    assert httpx.get(f"{server.url}/stats").json()["errors"] == 2


@pytest.mark.parametrize(
    "body",
    [{"error_rate": 2}, {"latency_ms": -1}, {"outages": [[5, 1]]}, {"outages": "soon"}, []],
)
def test_bad_fault_settings_are_422(serve: Callable[[Any], ServerThread], body: Any) -> None:
    server = serve(create_app())
    r = httpx.put(f"{server.url}/faults", json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_a_read_timeout_does_not_bound_a_slow_drip_but_a_deadline_does(
    serve: Callable[[Any], ServerThread],
) -> None:
    server = serve(create_app())
    url = f"{server.url}/drip?chunks=10&every_ms=50"  # 10 bytes over 0.5 s
    # Every chunk comes within 200 ms, so the read timeout never fires: all 10 bytes arrive.
    assert await with_read_timeout(url, connect_s=1, read_s=0.2) == 10
    with pytest.raises(TimeoutError):
        await with_deadline(url, connect_s=1, read_s=0.2, total_s=0.25)
