"""The one login check every entry point uses (/token, /session, the HTML form, /authorize):
throttle, password, second factor - and one answer for every kind of failure."""

from __future__ import annotations

import math

from fastapi.concurrency import run_in_threadpool

from auth.deps import Services
from auth.errors import ApiError
from auth.throttle import Limit
from auth.users import Account

BAD_CREDENTIALS = "wrong username or password"


def limits(services: Services, username: str, ip: str) -> list[Limit]:
    s = services.settings
    return [
        Limit(f"user:{username.lower()}", s.throttle_free_failures),
        Limit(f"ip:{ip}", s.throttle_ip_free_failures),
    ]


async def check_login(
    services: Services, username: str, password: str, otp: str | None, ip: str
) -> Account:
    now = services.clock()
    keys = limits(services, username, ip)
    wait = await services.throttle.retry_after(keys, now)
    if wait > 0:
        # Checked before the password: a blocked guess learns nothing, right or wrong.
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed logins: try again in {math.ceil(wait)} s",
            # Rounded up: a client that waits exactly this long is never refused again.
            {"Retry-After": str(math.ceil(wait))},
        )
    if len(password.encode()) > services.settings.max_password_bytes:
        raise ApiError(400, "invalid_request", "the password is too long")
    # argon2id takes tens of milliseconds of CPU on purpose: keep it off the event loop.
    result = await run_in_threadpool(services.users.authenticate, username, password)
    account = result.account
    if account is None:
        # Unknown user and wrong password: same status, same words, same hashing work.
        await services.throttle.failed(keys, now)
        raise ApiError(401, "invalid_credentials", BAD_CREDENTIALS)
    if account.mfa:
        if not otp:
            raise ApiError(401, "mfa_required", "this account needs a one-time code (otp)")
        code = otp.strip()
        ok = await run_in_threadpool(services.mfa.verify, account.id, code, now)
        if not ok and not code.isdigit():
            ok = await run_in_threadpool(services.mfa.use_recovery_code, account.id, code, now)
        if not ok:
            await services.throttle.failed(keys, now)
            raise ApiError(401, "invalid_otp", "the one-time code is wrong, expired or used")
    await services.throttle.succeeded(keys[0])
    return account
