"""What every request shares: the services on app.state, ``current`` (who is calling, by
bearer token or session cookie) and ``require(permission)``.

401 means "I do not know who you are" (no or dead credentials: log in). 403 means "I know who
you are, and you may not" (logging in again changes nothing).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine

from auth.errors import ApiError
from auth.mfa import Mfa
from auth.oauth import Codes
from auth.orders import Orders
from auth.passwords import Passwords
from auth.sessions import Session, Sessions
from auth.settings import Settings
from auth.throttle import Throttle
from auth.users import Account, Users

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class Services:
    settings: Settings
    passwords: Passwords
    users: Users
    mfa: Mfa
    sessions: Sessions
    throttle: Throttle
    codes: Codes
    orders: Orders
    engine: Engine
    # Every timeout reads this clock; tests move it instead of sleeping.
    clock: Callable[[], float] = field(default=time.time)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
# The tutorial's scheme: it reads "Authorization: Bearer ..." and documents /token in the
# OpenAPI page. auto_error=False: a cookie may authenticate instead, and the 401 is ours.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    account: Account
    session: Session
    token: str  # the bearer token or session id it came with (logout ends exactly this one)
    via: str  # "bearer" or "cookie"


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


def csrf_ok(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf, presented or "")


async def current(
    request: Request, services: ServicesDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    now = services.clock()
    via = "bearer" if token else "cookie"
    credential = token or request.cookies.get(services.settings.session_cookie, "")
    session = await services.sessions.get(credential, now) if credential else None
    if session is None or session.user_id is None or session.kind != via:
        raise unauthorized("log in first: no valid session or bearer token")
    # The browser attaches the cookie to a request any site makes (a form on evil.example
    # posting here). Only our own page can read the token it must echo.
    writes = via == "cookie" and request.method not in SAFE_METHODS
    if writes and not csrf_ok(session, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, "csrf_failed", f"a cookie-authenticated write needs {CSRF_HEADER}")
    account = await run_in_threadpool(services.users.get, session.user_id)
    if account is None:  # deleted since login
        raise unauthorized("this account no longer exists")
    return Principal(account, session, credential, via)


CurrentUser = Annotated[Principal, Depends(current)]


def require(permission: str) -> Any:
    """``who: Annotated[Principal, require("orders:write")]``: authenticated (else 401) and
    holding the permission through one of their roles (else 403)."""

    async def check(who: CurrentUser) -> Principal:
        if not who.account.can(permission):
            raise ApiError(403, "forbidden", f"this needs permission {permission}")
        return who

    return Depends(check)


def client_ip(request: Request) -> str:
    # Behind a proxy this is the proxy: run uvicorn with --proxy-headers and a trusted
    # --forwarded-allow-ips so it becomes the client's (never trust X-Forwarded-For blindly).
    return request.client.host if request.client else "unknown"
