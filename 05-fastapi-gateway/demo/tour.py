"""``python main.py demo``: a scripted walk through what the gateway does, on a live stack."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from demo.stack import Stack, start_gateway
from gateway.settings import DEFAULT_KEYS, ApiClient, GatewaySettings

Say = Callable[[str], None]


class TourError(Exception):
    """A step did not answer as the tour expects: the demo fails loudly, not quietly."""


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise TourError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {status}: {response.text[:200]}"
        )
    return response


def demo_settings(stack: Stack, redis_url: str | None) -> GatewaySettings:
    keys = dict(DEFAULT_KEYS)
    # A bucket of 3 that refills one token in 1000 s: the fourth call is a 429 however slowly
    # the machine gets through the first three.
    keys["trial-key"] = ApiClient(name="trial", rate_per_s=0.001, burst=3)
    return GatewaySettings(
        routes=stack.routes(timeout_s=2.0),
        api_keys=keys,
        redis_url=redis_url,
        rate_limit_prefix=f"gateway:demo:{time.time_ns()}:",
        health_interval_s=0.2,
        access_log=False,
    )


def wait_until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


def run_tour(stack: Stack, redis_url: str | None, say: Say) -> None:
    gateway = start_gateway(stack, demo_settings(stack, redis_url))
    key = {"X-API-Key": "demo-key"}
    with httpx.Client(base_url=gateway.url, headers=key, timeout=5.0) as http:
        limiter = expect(http.get("/ready"), 200).json()["limiter"]
        say(f"0. Gateway ready at {gateway.url}, rate limits kept in {limiter}")
        say("1. Routing and round-robin: /products has two catalog instances")
        for _ in range(4):
            r = expect(http.get("/products/1"), 200)
            say(f"   GET /products/1 -> {r.status_code} from {r.headers['x-instance']}")

        say("2. Authentication at the edge")
        r = expect(http.get("/orders/1", headers={"X-API-Key": ""}), 401)
        say(f"   no key            -> {r.status_code} {r.json()['error']['code']}")
        r = expect(http.get("/orders/1", headers={"X-API-Key": "catalog-key"}), 403)
        say(f"   catalog-only key  -> {r.status_code} {r.json()['error']['code']}")

        say("3. REST through the gateway: create an order")
        order = {"user_id": 3, "lines": [{"product_id": 3, "quantity": 2}]}
        r = expect(http.post("/orders", json=order), 201)
        say(
            f"   POST /orders -> {r.status_code}, Location: {r.headers['location']}, "
            f"created_by={r.json()['created_by']}"
        )

        say("4. Composition: order + user + products in one call")
        r = expect(http.get("/composite/orders/2"), 200)
        body = r.json()
        if body["degraded"]:
            raise TourError(f"composition degraded with all services up: {body['missing']}")
        names = [p["name"] for p in body["products"]]
        say(f"   user={body['user']['name']} products={names} degraded={body['degraded']}")

        say("5. Rate limit: trial-key has a bucket of 3, one token back per 1000 s")
        for i in range(4):
            r = expect(
                http.get("/products/1", headers={"X-API-Key": "trial-key"}), 200 if i < 3 else 429
            )
            extra = f", Retry-After: {r.headers['retry-after']} s" if r.status_code == 429 else ""
            say(
                f"   call {i + 1} -> {r.status_code}, "
                f"RateLimit-Remaining: {r.headers['ratelimit-remaining']}{extra}"
            )

        say("6. Kill the users service")
        stack.kill("users")
        r = expect(http.get("/users/1"), 503)
        say(f"   GET /users/1 -> {r.status_code} {r.json()['error']['code']}")
        body = expect(http.get("/composite/orders/1"), 200).json()
        say(
            f"   composite -> degraded={body['degraded']}, user={body['user']}, "
            f"missing={list(body['missing'])}"
        )
        say(f"   /ready -> {expect(http.get('/ready'), 503).status_code}")

        say("7. Bring it back: the health check returns it to the rotation")
        stack.revive("users")
        try:
            wait_until(lambda: http.get("/ready").status_code == 200)
        except TimeoutError:
            raise TourError("users did not come back within 10 s") from None
        r = expect(http.get("/users/1"), 200)
        say(f"   GET /users/1 -> {r.status_code} {r.json()['name']}")
