"""The protected API over HTTP: bad input is a 4xx JSON answer, limits answer 429 with their
headers, writes are not retried, and a spent deadline reaches no upstream."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import httpx
import pytest

from faults.app import Faults
from tests.conftest import Stack, wait_for

BAD_REQUESTS = [
    ("GET", "/inventory/abc", {}, None, 422),
    ("GET", "/inventory/-1", {}, None, 422),
    ("GET", "/inventory/99999999999999999999999", {}, None, 422),
    ("GET", "/inventory/1", {"X-Client-Id": "has spaces"}, None, 400),
    ("GET", "/inventory/1", {"X-Client-Id": "x" * 65}, None, 400),
    ("GET", "/inventory/1", {"X-Deadline-Ms": "soon"}, None, 400),
    ("GET", "/inventory/1", {"X-Deadline-Ms": "-5"}, None, 400),
    ("GET", "/inventory/1", {"X-Deadline-Ms": "0"}, None, 504),
    ("GET", "/nowhere", {}, None, 404),
    ("DELETE", "/inventory/1", {}, None, 405),
    ("POST", "/orders", {}, b"", 422),
    ("POST", "/orders", {}, b"{not json", 422),
    ("POST", "/orders", {}, b"[]", 422),
    ("POST", "/orders", {}, b'{"item_id": 1, "quantity": 0}', 422),
    ("POST", "/orders", {}, b'{"item_id": "x", "quantity": 1}', 422),
    ("POST", "/orders", {}, b"\xff\xfe", 422),
    ("POST", "/orders", {}, b'{"item_id": 1, "quantity": 1, "pad": "' + b"x" * 5000 + b'"}', 413),
    ("POST", "/orders", {"Idempotency-Key": "k" * 201}, b'{"item_id": 1, "quantity": 1}', 422),
]


@pytest.fixture
def stack(api: Callable[..., Stack]) -> Stack:
    return api()


def test_bad_input_is_a_4xx_json_answer_never_a_500(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url) as client:
        for method, path, headers, body, status in BAD_REQUESTS:
            r = client.request(method, path, headers=headers, content=body)
            case = f"{method} {path} {headers} {body!r:.40}"
            assert r.status_code == status, f"{case}: {r.status_code} {r.text}"
            assert set(r.json()["error"]) == {"code", "message"}, case


def test_a_chunked_body_over_the_cap_is_413(stack: Stack) -> None:
    def chunks():  # no Content-Length: the cap must hold while reading
        for _ in range(10):
            yield b"x" * 1000

    r = httpx.post(stack.url + "/orders", content=chunks())
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_a_spent_deadline_reaches_no_upstream(stack: Stack) -> None:
    r = httpx.get(stack.url + "/inventory/1", headers={"X-Deadline-Ms": "0"})
    assert r.status_code == 504
    assert stack.stats("inventory")["calls"] == 0


def test_the_deadline_travels_downstream_and_the_work_is_abandoned(
    api: Callable[..., Stack],
) -> None:
    stack = api(inventory=Faults(latency_ms=3000))
    r = httpx.get(stack.url + "/inventory/1", headers={"X-Deadline-Ms": "200"}, timeout=10)
    assert r.status_code == 504 and r.json()["error"]["code"] == "deadline_exceeded"
    # The upstream got the remaining budget, stopped when it ran out, and never finished.
    wait_for(lambda: stack.stats("inventory")["abandoned"] == 1, what="work abandoned")
    assert stack.stats("inventory")["served"] == 0


def test_an_answer_carries_the_rate_limit_headers(stack: Stack) -> None:
    r = httpx.get(stack.url + "/inventory/7")
    assert r.status_code == 200
    assert r.json() == {"item_id": 7, "source": "inventory", "attempts": 1}
    assert r.headers["ratelimit-limit"] == "10000"
    assert r.headers["ratelimit-remaining"] == "9999"


@pytest.mark.parametrize("algorithm", ["fixed", "log", "counter", "token", "gcra"])
def test_over_the_limit_is_429_with_retry_after_per_client_and_route(
    api: Callable[..., Stack], algorithm: str
) -> None:
    stack = api(rate_limit=3, rate_window_s=60, rate_algorithm=algorithm)
    alice = {"X-Client-Id": "alice"}
    with httpx.Client(base_url=stack.url, headers=alice) as client:
        statuses = [client.get("/inventory/1").status_code for _ in range(4)]
        refused = client.get("/inventory/1")
    assert statuses == [200, 200, 200, 429]
    assert refused.json()["error"]["code"] == "rate_limited"
    # Within two windows: the sliding counter may wait for the next window and part of it.
    assert 1 <= int(refused.headers["retry-after"]) <= 120
    assert refused.headers["ratelimit-remaining"] == "0"
    # Another client, or the same client on another route, has its own budget.
    assert httpx.get(stack.url + "/inventory/1", headers={"X-Client-Id": "bob"}).status_code == 200
    assert httpx.get(stack.url + "/recommendations/1", headers=alice).status_code == 200


@pytest.mark.redis
def test_two_api_instances_share_one_limit_through_redis(
    api: Callable[..., Stack], redis_url: str, key_prefix: str
) -> None:
    shared = {"rate_limit": 4, "rate_window_s": 3600, "redis_url": redis_url,
              "redis_prefix": key_prefix, "rate_algorithm": "log"}  # fmt: skip
    a, b = api(**shared), api(**shared)
    statuses = [httpx.get(f"{(a, b)[i % 2].url}/inventory/1").status_code for i in range(8)]
    assert sorted(statuses) == [200] * 4 + [429] * 4


def test_failing_reads_are_retried_up_to_the_cap(api: Callable[..., Stack]) -> None:
    stack = api(inventory=Faults(error_rate=1.0), retry_attempts=3, throttle=False)
    r = httpx.get(stack.url + "/inventory/1")
    assert r.status_code == 502
    assert "after 3 attempt(s), attempts" in r.json()["error"]["message"]
    assert stack.stats("inventory")["calls"] == 3


def test_a_write_is_sent_once_even_when_it_fails(api: Callable[..., Stack]) -> None:
    stack = api(inventory=Faults(error_rate=1.0), retry_attempts=3, throttle=False)
    r = httpx.post(stack.url + "/orders", json={"item_id": 1, "quantity": 1})
    assert r.status_code == 502
    assert stack.stats("inventory")["writes"] == 1


def test_a_write_with_an_idempotency_key_may_be_retried(api: Callable[..., Stack]) -> None:
    stack = api(inventory=Faults(error_rate=1.0), retry_attempts=3, throttle=False)
    r = httpx.post(
        stack.url + "/orders",
        json={"item_id": 1, "quantity": 1},
        headers={"Idempotency-Key": "order-42"},
    )
    assert r.status_code == 502
    assert stack.stats("inventory")["writes"] == 3


def test_an_unreachable_upstream_is_503_with_retry_after(api: Callable[..., Stack]) -> None:
    stack = api(inventory_url="http://127.0.0.1:9")  # discard port: nothing listens
    r = httpx.get(stack.url + "/inventory/1")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["error"]["code"] == "upstream_unavailable"


def test_the_adaptive_throttle_stops_sending_to_an_upstream_that_rejects(
    api: Callable[..., Stack],
) -> None:
    stack = api(inventory=Faults(error_rate=1.0), retry_attempts=1)
    with httpx.Client(base_url=stack.url) as client:
        codes = [client.get("/inventory/1").json()["error"]["code"] for _ in range(40)]
    # Every call the upstream saw was a 503; past the first few, most never left the API.
    assert codes.count("throttled") > 20
    assert stack.stats("inventory")["calls"] == codes.count("upstream_error") < 20


def test_an_unreachable_redis_fails_open_and_says_so(
    api: Callable[..., Stack], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a free port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    stack = api(redis_url=dead, rate_limit=1)
    with caplog.at_level(logging.WARNING, logger="resilience.api"):
        statuses = [httpx.get(stack.url + "/inventory/1").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]  # no limit while the limiter is away, not an outage
    assert any("rate limiter unavailable" in r.getMessage() for r in caplog.records)
