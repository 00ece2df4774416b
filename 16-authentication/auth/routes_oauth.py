"""OAuth2: the password grant as FastAPI's tutorial shows it (/token, /users/me), and the
authorization code flow with PKCE (/authorize, then /token with grant_type=authorization_code)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from auth import pages
from auth.deps import CurrentUser, Services, ServicesDep, client_ip
from auth.errors import ApiError
from auth.login import check_login
from auth.oauth import CHALLENGE, CodeRefused, registered
from auth.sessions import id_hash

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}  # RFC 6749 5.1: token responses are never cached


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Me(BaseModel):
    username: str
    roles: list[str]
    permissions: list[str]
    mfa_enabled: bool
    authenticated_by: str


async def _bearer(services: Services, user_id: int) -> TokenResponse:
    # An opaque token kept server-side (a session of kind "bearer"): revocable at once, and
    # "log out all devices" ends it too. Lesson 15 shows the self-contained JWT alternative.
    token, _ = await services.sessions.start(user_id, "bearer", services.clock())
    return TokenResponse(access_token=token, expires_in=services.settings.session_idle_s)


@router.post("/token", response_model=TokenResponse)
async def token(
    request: Request,
    services: ServicesDep,
    response: Response,
    grant_type: Annotated[str, Form(max_length=64)],
    # The password grant's fields are OAuth2PasswordRequestForm's; this endpoint also takes
    # the authorization_code grant, so it declares them itself.
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=4096)] = None,
    otp: Annotated[str | None, Form(max_length=32)] = None,
    code: Annotated[str | None, Form(max_length=128)] = None,
    redirect_uri: Annotated[str | None, Form(max_length=512)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    code_verifier: Annotated[str | None, Form(max_length=256)] = None,
) -> TokenResponse:
    response.headers.update(NO_STORE)
    if grant_type == "password":
        if not username or not password:
            raise ApiError(400, "invalid_request", "username and password are required")
        account = await check_login(services, username, password, otp, client_ip(request))
        return await _bearer(services, account.id)
    if grant_type == "authorization_code":
        if not code or not redirect_uri or not client_id:
            raise ApiError(400, "invalid_request", "code, redirect_uri and client_id are required")
        now = services.clock()
        try:
            done = await run_in_threadpool(
                services.codes.redeem, code, client_id, redirect_uri, code_verifier, now
            )
        except CodeRefused as exc:
            if exc.token_to_revoke:
                await services.sessions.store.delete(exc.token_to_revoke)
            raise ApiError(
                400, "invalid_grant", f"authorization code refused: {exc.reason}"
            ) from None
        issued = await _bearer(services, done.user_id)
        await run_in_threadpool(
            services.codes.attach_token, done.code_hash, id_hash(issued.access_token)
        )
        return issued
    raise ApiError(400, "unsupported_grant_type", "grant_type is password or authorization_code")


@router.get("/users/me", response_model=Me)
async def users_me(who: CurrentUser) -> Me:
    return Me(
        username=who.account.username,
        roles=sorted(who.account.roles),
        permissions=sorted(who.account.permissions),
        mfa_enabled=who.account.mfa,
        authenticated_by=who.via,
    )


class AuthorizeQuery(BaseModel):
    response_type: str = Field(max_length=32)
    client_id: str = Field(max_length=64)
    redirect_uri: str = Field(max_length=512)
    state: str = Field(default="", max_length=256)
    code_challenge: str = Field(default="", max_length=128)
    code_challenge_method: str = Field(default="", max_length=16)


class AuthorizeSubmit(AuthorizeQuery):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=4096)
    otp: str | None = Field(default=None, max_length=32)


def _check_request(services: Services, q: AuthorizeQuery) -> None:
    """Two kinds of refusal (RFC 6749 4.1.2.1). While client and redirect_uri are unproven,
    the error is shown here and *never* redirected: redirecting to an unregistered URI is an
    open redirect that hands the code (or the user) to an attacker. Once the URI is known
    good, other errors go back to the client on it."""
    if not registered(services.settings.oauth_clients, q.client_id, q.redirect_uri):
        raise ApiError(400, "invalid_request", "unknown client_id or unregistered redirect_uri")
    if q.response_type != "code":
        raise _to_client(q, "unsupported_response_type")
    if q.code_challenge_method != "S256" or not CHALLENGE.match(q.code_challenge):
        # PKCE is required, and only S256: "plain" sends the verifier itself up front.
        raise _to_client(q, "invalid_request", "PKCE with code_challenge_method=S256 required")


class _Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


def _to_client(q: AuthorizeQuery, error: str, description: str = "") -> _Redirect:
    params = {"error": error, "state": q.state}
    if description:
        params["error_description"] = description
    return _Redirect(f"{q.redirect_uri}?{urlencode(params)}")


@router.get("/authorize", response_class=HTMLResponse)
async def authorize_form(services: ServicesDep, q: Annotated[AuthorizeQuery, Query()]) -> Response:
    try:
        _check_request(services, q)
    except _Redirect as exc:
        return RedirectResponse(exc.url, status_code=303)
    return HTMLResponse(pages.authorize(q.model_dump(), services.settings.totp_issuer))


@router.post("/authorize")
async def authorize_submit(
    request: Request,
    services: ServicesDep,
    q: Annotated[AuthorizeSubmit, Form()],
) -> Response:
    try:
        _check_request(services, q)
    except _Redirect as exc:
        return RedirectResponse(exc.url, status_code=303)
    try:
        account = await check_login(services, q.username, q.password, q.otp, client_ip(request))
    except ApiError as exc:
        # A person is looking at this page: the form again, with the reason and the status.
        page = pages.authorize(q.model_dump(), services.settings.totp_issuer, exc.message)
        return HTMLResponse(page, status_code=exc.status, headers=exc.headers)
    code = await run_in_threadpool(
        services.codes.issue, q.client_id, q.redirect_uri, account.id, q.code_challenge,
        services.clock(),
    )  # fmt: skip
    # 303: the browser follows with a GET, and the code travels in the query, as RFC 6749 says.
    target = f"{q.redirect_uri}?{urlencode({'code': code, 'state': q.state})}"
    return RedirectResponse(target, status_code=303)
