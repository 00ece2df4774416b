"""What every request shares: the services on app.state, and ``authenticated``, the dependency
that turns an ``Authorization: Bearer`` header into a principal - or a 401, 403, 400 or 503."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from tokens.errors import ApiError
from tokens.issue import Issuer
from tokens.keyring import KeyRing
from tokens.refresh import RefreshStore
from tokens.revocation import Revocations, RevocationUnavailable
from tokens.settings import Settings
from tokens.users import SCOPES, Users
from tokens.verify import KeySource, KeysUnavailable, Policy, RemoteKeys, TokenRefused, verify

REALM = "lesson-15"
# Names under which clients put tokens into URLs. A URL ends up in access logs, browser
# history and Referer headers (RFC 6750 section 5.3): refused even when the token is valid.
QUERY_TOKEN_NAMES = ("access_token", "token", "jwt", "id_token")


@dataclass
class Services:
    settings: Settings
    ring: KeyRing
    issuer: Issuer
    keys: KeySource
    policy: Policy
    store: RefreshStore
    revocations: Revocations
    users: Users


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
# auto_error=False: the 401 is ours, in the lesson's JSON shape with the RFC 6750 header.
bearer = OAuth2PasswordBearer(tokenUrl="token", scopes=SCOPES, auto_error=False)


@dataclass(frozen=True)
class Principal:
    sub: str
    scopes: frozenset[str]
    jti: str
    exp: int
    sid: str
    claims: dict[str, Any]


def unauthorized(reason: str, message: str) -> ApiError:
    # RFC 6750 3.1: no token at all gets a bare challenge; a bad token gets error="invalid_token".
    challenge = f'Bearer realm="{REALM}"'
    if reason != "missing":
        challenge += f', error="invalid_token", error_description="{reason}"'
    return ApiError(401, "invalid_token", message, reason, {"WWW-Authenticate": challenge})


def shape_problem(claims: dict[str, Any]) -> str | None:
    """PyJWT checks what the claims mean; this checks the types this API relies on. A token
    signed by our own key only carries such values if the key leaked or the issuer has a bug,
    and either way it gets a 401, not a 500 further down."""
    for name in ("exp", "iat", "nbf", "ver"):
        value = claims.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
            return f"{name} must be a non-negative integer"
    if not isinstance(claims.get("scope", ""), str) or not isinstance(claims.get("sid", ""), str):
        return "scope and sid must be strings"
    return None


async def authenticated(
    security_scopes: SecurityScopes,
    request: Request,
    services: ServicesDep,
    token: Annotated[str | None, Depends(bearer)],
) -> Principal:
    if any(name in request.query_params for name in QUERY_TOKEN_NAMES):
        raise ApiError(
            400,
            "invalid_request",
            "send the token in the Authorization header, never in the URL",
            "token_in_query",
            {"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_request"'},
        )
    if not token:
        raise unauthorized("missing", "an Authorization: Bearer token is required")
    try:
        if isinstance(services.keys, RemoteKeys):
            # PyJWKClient fetches with blocking urllib: keep it off the event loop.
            claims = await run_in_threadpool(verify, token, services.keys, services.policy)
        else:
            claims = verify(token, services.keys, services.policy)
    except TokenRefused as exc:
        raise unauthorized(exc.reason, exc.detail) from None
    except KeysUnavailable:
        raise ApiError(503, "keys_unavailable", "the signing keys cannot be fetched") from None
    problem = shape_problem(claims)
    if problem:
        raise unauthorized("bad_claim", problem)
    try:
        denied, version = await services.revocations.check(claims["jti"], claims["sub"])
    except RevocationUnavailable:
        # Fail closed: without the denylist a logged-out token would pass.
        raise ApiError(503, "revocation_unavailable", "cannot check revocations now") from None
    if denied:
        raise unauthorized("revoked", "this token was revoked (logout)")
    if claims.get("ver", 0) < version:
        raise unauthorized("revoked", "all sessions of this user were ended")
    granted = frozenset(claims.get("scope", "").split())
    missing = [s for s in security_scopes.scopes if s not in granted]
    if missing:
        raise ApiError(
            403,
            "insufficient_scope",
            f"this needs scope {' '.join(missing)}",
            "insufficient_scope",
            {
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", '
                f'scope="{security_scopes.scope_str}"'
            },
        )
    return Principal(
        claims["sub"], granted, claims["jti"], claims["exp"], str(claims.get("sid", "")), claims
    )
