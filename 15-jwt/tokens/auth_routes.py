"""The auth server's endpoints: the OAuth2 token endpoint (password and refresh_token grants),
logout, log out everywhere, and the JWKS document."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Response, Security
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from tokens.deps import Principal, Services, ServicesDep, authenticated
from tokens.errors import ApiError
from tokens.refresh import Grant, RefreshRefused

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}  # RFC 6749 5.1: token responses are never cached


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    scope: str


def invalid_grant(reason: str, message: str) -> ApiError:
    return ApiError(400, "invalid_grant", message, reason)


@router.post("/token", response_model=TokenResponse)
async def token(
    services: ServicesDep,
    response: Response,
    grant_type: Annotated[str, Form(max_length=64)],
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[str, Form(max_length=512)] = "",
    refresh_token: Annotated[str | None, Form(max_length=128)] = None,
) -> TokenResponse:
    response.headers.update(NO_STORE)
    if grant_type not in ("password", "refresh_token"):
        # RFC 6749 5.2: a grant this server does not do is a 400 with its own code.
        raise ApiError(400, "unsupported_grant_type", "grant_type is password or refresh_token")
    if grant_type == "password":
        if not username or not password:
            raise ApiError(400, "invalid_request", "username and password are required")
        # argon2 is slow by design: verify in a thread so the event loop keeps serving.
        user = await run_in_threadpool(services.users.authenticate, username, password)
        if user is None:
            # One message for both cases: no hint which user names exist.
            raise invalid_grant("bad_credentials", "wrong username or password")
        wanted = scope.split() or sorted(user.scopes)
        if not set(wanted) <= user.scopes:
            extra = " ".join(sorted(set(wanted) - user.scopes))
            raise ApiError(400, "invalid_scope", f"{user.name} may not have scope {extra}")
        grant = await run_in_threadpool(services.store.start, user.name, wanted)
    else:
        if not refresh_token:
            raise ApiError(400, "invalid_request", "refresh_token is required")
        try:
            grant = await run_in_threadpool(services.store.rotate, refresh_token)
        except RefreshRefused as exc:
            raise invalid_grant(exc.reason, exc.detail) from None
    return await _tokens_for(services, grant)


async def _tokens_for(services: Services, grant: Grant) -> TokenResponse:
    version = await services.revocations.version(grant.user_id)
    access, claims = services.issuer.access_token(
        grant.user_id, grant.scopes, grant.family_id, version
    )
    return TokenResponse(
        access_token=access,
        expires_in=claims["exp"] - claims["iat"],
        refresh_token=grant.refresh_token,
        scope=claims["scope"],
    )


@router.post("/logout", status_code=204)
async def logout(
    services: ServicesDep, who: Annotated[Principal, Security(authenticated)]
) -> Response:
    """End this session: this access token now, its refresh-token family for good."""
    await services.revocations.revoke(who.jti, who.exp)
    if who.sid:
        await run_in_threadpool(services.store.revoke_family, who.sid)
    return Response(status_code=204)


@router.post("/logout-everywhere", status_code=204)
async def logout_everywhere(
    services: ServicesDep, who: Annotated[Principal, Security(authenticated)]
) -> Response:
    """Every access token of this user issued so far, and every refresh-token family."""
    await services.revocations.bump_version(who.sub)
    await run_in_threadpool(services.store.revoke_user, who.sub)
    return Response(status_code=204)


@router.get("/.well-known/jwks.json")
async def jwks(services: ServicesDep, response: Response) -> dict[str, list[dict[str, str]]]:
    # Caches may keep it a minute; the next key is published a whole rotation ahead anyway.
    response.headers["Cache-Control"] = "public, max-age=60"
    return services.ring.jwks()
