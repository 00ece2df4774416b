"""TOTP enrolment: a secret and its otpauth:// URI (and QR code), confirmed by a first code,
which turns the second factor on and returns the recovery codes once."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from auth.deps import CurrentUser, ServicesDep
from auth.errors import ApiError
from auth.totp import provisioning_uri, qr_png

router = APIRouter(prefix="/mfa")


class Enrolment(BaseModel):
    secret: str
    otpauth_uri: str
    qr_png: str = "/mfa/qr.png"


class Confirm(BaseModel):
    code: str = Field(min_length=6, max_length=8, pattern=r"^[0-9]+$")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]  # shown once: only their hashes are stored


async def _pending_uri(who: CurrentUser, services: ServicesDep) -> str:
    secret = await run_in_threadpool(services.users.totp_secret, who.account.id)
    if secret is None or who.account.mfa:
        raise ApiError(409, "no_enrolment", "start with POST /mfa/enroll")
    return provisioning_uri(secret, who.account.username, services.settings.totp_issuer)


@router.post("/enroll", response_model=Enrolment)
async def enroll(who: CurrentUser, services: ServicesDep) -> Enrolment:
    if who.account.mfa:
        raise ApiError(409, "mfa_enabled", "a second factor is already enabled")
    secret = await run_in_threadpool(services.mfa.start_enrolment, who.account.id)
    uri = provisioning_uri(secret, who.account.username, services.settings.totp_issuer)
    return Enrolment(secret=secret, otpauth_uri=uri)


@router.get("/qr.png")
async def qr(who: CurrentUser, services: ServicesDep) -> Response:
    uri = await _pending_uri(who, services)
    # no-store: the picture holds the secret.
    return Response(qr_png(uri), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/confirm", response_model=RecoveryCodes)
async def confirm(body: Confirm, who: CurrentUser, services: ServicesDep) -> RecoveryCodes:
    await _pending_uri(who, services)
    codes = await run_in_threadpool(
        services.mfa.confirm, who.account.id, body.code, services.clock()
    )
    if codes is None:
        raise ApiError(400, "invalid_otp", "that code does not match the new secret")
    return RecoveryCodes(recovery_codes=codes)
