"""Cookie sessions: a JSON login for scripts and single-page apps, and the HTML pages a
browser uses (login form, account page, logout)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from auth import pages
from auth.deps import CurrentUser, Services, ServicesDep, client_ip, csrf_ok
from auth.errors import ApiError
from auth.login import check_login
from auth.sessions import Session

router = APIRouter()


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=4096)
    otp: str | None = Field(default=None, max_length=32)


class LoggedIn(BaseModel):
    username: str
    csrf_token: str  # echo it in X-CSRF-Token on every cookie-authenticated write


class Ended(BaseModel):
    ended: int


def set_session_cookie(response: Response, services: Services, session_id: str) -> None:
    response.set_cookie(
        services.settings.session_cookie,
        session_id,
        httponly=True,  # no script can read it, so an XSS cannot carry it away
        secure=services.settings.cookie_secure,  # never sent over plain http
        samesite="lax",  # not sent on cross-site POSTs (a CSRF defence, not the only one)
        path="/",
    )


def clear_session_cookie(response: Response, services: Services) -> None:
    response.delete_cookie(
        services.settings.session_cookie,
        path="/",
        httponly=True,
        secure=services.settings.cookie_secure,
        samesite="lax",
    )


@router.post("/session", response_model=LoggedIn)
async def session_login(
    body: LoginBody, request: Request, response: Response, services: ServicesDep
) -> LoggedIn:
    account = await check_login(
        services, body.username, body.password, body.otp, client_ip(request)
    )
    presented = request.cookies.get(services.settings.session_cookie)
    session_id = await services.sessions.rotate(presented, account.id, "cookie", services.clock())
    session = await services.sessions.get(session_id, services.clock())
    assert session is not None  # just created
    set_session_cookie(response, services, session_id)
    return LoggedIn(username=account.username, csrf_token=session.csrf)


@router.delete("/session", status_code=204)
async def session_logout(who: CurrentUser, services: ServicesDep) -> Response:
    await services.sessions.end(who.token)
    response = Response(status_code=204)
    clear_session_cookie(response, services)
    return response


@router.post("/sessions/logout-all", response_model=Ended)
async def logout_all(who: CurrentUser, services: ServicesDep, response: Response) -> Ended:
    """Every session and bearer token of this user, on every device, this one included."""
    ended = await services.sessions.end_all(who.account.id)
    clear_session_cookie(response, services)
    return Ended(ended=ended)


# ---- the HTML pages -------------------------------------------------------------------


async def _browser_session(services: Services, request: Request) -> tuple[str, Session] | None:
    session_id = request.cookies.get(services.settings.session_cookie, "")
    session = await services.sessions.get(session_id, services.clock()) if session_id else None
    return (session_id, session) if session and session.kind in ("anonymous", "cookie") else None


@router.get("/", response_class=HTMLResponse)
async def login_page(request: Request, services: ServicesDep) -> Response:
    found = await _browser_session(services, request)
    if found and found[1].user_id is not None:
        return RedirectResponse("/account", status_code=303)
    if found:
        return HTMLResponse(pages.login(found[1].csrf))
    # A visitor gets an anonymous session holding the login form's CSRF token.
    session_id, session = await services.sessions.start(None, "anonymous", services.clock())
    response = HTMLResponse(pages.login(session.csrf))
    set_session_cookie(response, services, session_id)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login_form(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=4096)],
    csrf: Annotated[str, Form(max_length=64)],
    otp: Annotated[str | None, Form(max_length=32)] = None,
) -> Response:
    found = await _browser_session(services, request)
    if found is None or not csrf_ok(found[1], csrf):
        # Login CSRF: without it, another site could sign the browser into *its* account.
        raise ApiError(403, "csrf_failed", "reload the login page and try again")
    try:
        account = await check_login(services, username, password, otp, client_ip(request))
    except ApiError as exc:
        page = pages.login(found[1].csrf, exc.message)
        return HTMLResponse(page, status_code=exc.status, headers=exc.headers)
    session_id = await services.sessions.rotate(found[0], account.id, "cookie", services.clock())
    response = RedirectResponse("/account", status_code=303)
    set_session_cookie(response, services, session_id)
    return response


@router.get("/account", response_class=HTMLResponse)
async def account_page(request: Request, services: ServicesDep) -> Response:
    found = await _browser_session(services, request)
    if found is None or found[1].user_id is None:
        return RedirectResponse("/", status_code=303)
    account = await run_in_threadpool(services.users.get, found[1].user_id)
    if account is None:
        return RedirectResponse("/", status_code=303)
    return HTMLResponse(pages.account(account.username, sorted(account.roles), found[1].csrf))


@router.post("/logout")
async def logout_form(
    request: Request, services: ServicesDep, csrf: Annotated[str, Form(max_length=64)]
) -> Response:
    found = await _browser_session(services, request)
    if found is None or not csrf_ok(found[1], csrf):
        raise ApiError(403, "csrf_failed", "reload the page and try again")
    await services.sessions.end(found[0])
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, services)
    return response
