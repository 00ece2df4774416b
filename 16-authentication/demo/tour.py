"""`python main.py demo`: users with roles, password + TOTP, a 403, the PKCE flow as a client
runs it, a rehash, a brute-force throttle and a cookie session - against the real app on a
free port, over real HTTP.

Every step checks the answer it expects and raises TourError otherwise, so exit 0 means the
whole story happened as told.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from auth.app import create_app
from auth.deps import Services
from auth.oauth import new_verifier, s256
from auth.settings import Settings
from auth.totp import code_at
from demo.people import ADA_TOTP_SECRET, PEOPLE, add_people
from demo.server import ServerThread

Say = Callable[[str], None]
CLIENT_ID, REDIRECT = "demo-client", "http://127.0.0.1:8765/callback"


class TourError(Exception):
    pass


def expect(answer: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if answer.status_code != status:
        raise TourError(f"{what}: expected {status}, got {answer.status_code} {answer.text[:200]}")
    body: dict[str, Any] = answer.json() if "json" in answer.headers.get("content-type", "") else {}
    return body


def refusal(answer: httpx.Response) -> str:
    error = answer.json()["error"]
    return f"{answer.status_code} {error['code']}: {error['message']}"


def run_tour(settings: Settings, say: Say = print) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # A throwaway database, so the story starts from nothing every time; plain http on
        # loopback, so the session cookie is not marked Secure here.
        # With Redis, keys of its own: a previous run's throttle must not block this one.
        overrides = {
            "database_url": f"sqlite:///{Path(tmp) / 'demo.db'}",
            "cookie_secure": False,
            "oauth_clients": {CLIENT_ID: [REDIRECT]},
            "redis_prefix": f"{settings.redis_prefix}demo-{secrets.token_hex(4)}:",
            # A first delay long enough to show even on a slow machine.
            "throttle_free_failures": 3,
            "throttle_base_delay_s": 2.0,
        }
        demo_settings = settings.model_copy(update=overrides)
        app = create_app(demo_settings)
        with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
            services: Services = app.state.services
            _tour(services, server.url, http, say)


def _token(
    http: httpx.Client, user: str, password: str | None = None, **extra: str
) -> httpx.Response:
    form = {"grant_type": "password", "username": user, "password": password or PEOPLE[user][0]}
    return http.post("/token", data={**form, **extra})


def _bearer(answer: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _tour(services: Services, url: str, http: httpx.Client, say: Say) -> None:
    store = "Redis" if services.settings.redis_url else "the database"
    say(f"0. The app at {url}; sessions in {store}")
    add_people(services.users)
    for account in services.users.all():
        scheme = services.passwords.scheme(services.users.stored_hash(account.username) or "")
        mfa = ", TOTP on" if account.mfa else ""
        say(f"   {account.username}: {', '.join(sorted(account.roles))} ({scheme}{mfa})")

    say("1. ada logs in with password + TOTP (POST /token, the OAuth2 password grant)")
    say(f"   without a code -> {refusal(_token(http, 'ada'))}")
    code = code_at(ADA_TOTP_SECRET, time.time())
    ada = _token(http, "ada", otp=code)
    expect(ada, 200, "ada with her code")
    say(f"   with code {code} -> 200, a bearer token (python main.py totp --secret-b32 "
        f"{ADA_TOTP_SECRET} shows the same code)")  # fmt: skip
    replay = _token(http, "ada", otp=code)
    expect(replay, 401, "the same code again")
    say(f"   the same code again -> {refusal(replay)}")

    say("2. Roles and owners: 401 vs 403")
    bob, cyd = _bearer(expect_ok(_token(http, "bob"))), _bearer(expect_ok(_token(http, "cyd")))
    order = expect(http.post("/orders", json={"item": "ink", "quantity": 2}, headers=bob), 201,
                   "bob orders")  # fmt: skip
    say(f"   bob (clerk) POST /orders -> 201, order {order['id']}")
    say(f"   no credentials GET /orders -> {refusal(http.get('/orders'))}")
    denied = http.post("/orders", json={"item": "x", "quantity": 1}, headers=cyd)
    expect(denied, 403, "a viewer writing")
    say(f"   cyd (viewer) POST /orders -> {refusal(denied)}")
    idor = http.get(f"/orders/{order['id']}", headers=cyd)
    expect(idor, 403, "someone else's order")
    say(f"   cyd GET bob's order -> {refusal(idor)}")
    expect(http.get(f"/orders/{order['id']}", headers=_bearer(ada)), 200, "admin reads it")
    say("   ada (admin, orders:any) GET bob's order -> 200")

    say("3. The authorization code flow with PKCE, as a client app runs it")
    verifier = new_verifier()
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "st-42",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    expect(http.get("/authorize", params=params), 200, "the login form")
    say(f"   GET /authorize -> the login form; challenge {params['code_challenge'][:12]}.. (S256)")
    form = {**params, "username": "bob", "password": PEOPLE["bob"][0]}
    back = http.post("/authorize", data=form)
    expect(back, 303, "the form posted")
    query = parse_qs(urlsplit(back.headers["location"]).query)
    if query.get("state") != ["st-42"]:
        raise TourError("the state did not come back")
    code_value = query["code"][0]
    say(f"   POST /authorize -> 303 to {REDIRECT}?code={code_value[:8]}..&state=st-42")
    exchange = {"grant_type": "authorization_code", "code": code_value, "redirect_uri": REDIRECT,
                "client_id": CLIENT_ID}  # fmt: skip
    stolen = http.post("/token", data=exchange)
    expect(stolen, 400, "the code without its verifier")
    say(f"   the code without code_verifier -> {refusal(stolen)}")
    form_again = http.post("/authorize", data=form)
    code_value = parse_qs(urlsplit(form_again.headers["location"]).query)["code"][0]
    exchange["code"] = code_value
    expect(http.post("/token", data={**exchange, "code_verifier": verifier}), 200, "exchange")
    say("   a fresh code with its code_verifier -> 200, a token for bob")
    twice = http.post("/token", data={**exchange, "code_verifier": verifier})
    expect(twice, 400, "the code twice")
    say(f"   the same code again -> {refusal(twice)}")
    evil = http.get("/authorize", params={**params, "redirect_uri": "https://evil.example/cb"})
    expect(evil, 400, "an unregistered redirect_uri")
    say(f"   redirect_uri=https://evil.example/cb -> {refusal(evil)} (no redirect)")

    say("4. dee's hash dates from a bcrypt system; her next login upgrades it")
    before = services.users.stored_hash("dee") or ""
    expect_ok(_token(http, "dee"))
    after = services.users.stored_hash("dee") or ""
    say(f"   before {before[:29]}..\n   after  {after[:40]}..")
    if not after.startswith("$argon2id$"):
        raise TourError("dee's hash was not upgraded")

    say("5. Someone guesses cyd's password")
    answers = [_token(http, "cyd", "guess-" + str(i)).status_code for i in range(4)]
    say(f"   4 wrong passwords -> {answers} (3 free, the 4th starts a 2 s delay)")
    if answers != [401] * 4:
        raise TourError(f"expected four 401s, got {answers} (a throttle left from elsewhere?)")
    blocked = _token(http, "cyd")
    expect(blocked, 429, "the right password while blocked")
    say(f"   the right password now -> {refusal(blocked)} (Retry-After "
        f"{blocked.headers['retry-after']})")  # fmt: skip
    time.sleep(float(blocked.headers["retry-after"]))
    expect(_token(http, "cyd", "guess-again"), 401, "a fifth guess")
    longer = _token(http, "cyd")
    say(f"   one more wrong guess after waiting -> Retry-After {longer.headers['retry-after']} "
        "(doubling, capped: never a permanent lock)")  # fmt: skip
    unknown = _token(http, "nobody-here", "guess")
    wrong = _token(http, "bob", "guess")
    if unknown.json() != wrong.json():
        raise TourError("unknown user and wrong password answer differently")
    say(f"   unknown user and wrong password, same answer -> {refusal(unknown)}")

    say("6. A cookie session in a browser-like client")
    http.get("/")
    visitor = http.cookies["sid"]
    login = http.post("/session", json={"username": "bob", "password": PEOPLE["bob"][0]})
    csrf = expect(login, 200, "cookie login")["csrf_token"]
    flags = login.headers["set-cookie"].split(";", 1)[1].strip()
    if http.cookies["sid"] == visitor:
        raise TourError("the session id was not rotated at login")
    rotated = http.cookies["sid"][:8]
    say(f"   visitor sid {visitor[:8]}.. -> after login {rotated}.. (rotated); {flags}")
    no_token = http.post("/orders", json={"item": "x", "quantity": 1})
    say(f"   a write with the cookie but no X-CSRF-Token -> {refusal(no_token)}")
    expect(http.post("/orders", json={"item": "x", "quantity": 1},
                     headers={"X-CSRF-Token": csrf}), 201, "a write with the token")  # fmt: skip
    expect(http.delete("/session", headers={"X-CSRF-Token": csrf}), 204, "logout")
    http.cookies.clear()
    say("   with the token -> 201; DELETE /session -> 204, the session is gone")
    say("demo finished: every step answered as expected")


def expect_ok(answer: httpx.Response) -> httpx.Response:
    expect(answer, 200, "login")
    return answer
