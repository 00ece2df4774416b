"""TOTP (RFC 6238) with pyotp: secrets, the otpauth:// URI, QR codes, and the check that
accepts one step either side and tells which step matched (so a code works only once)."""

from __future__ import annotations

import hashlib
import hmac
import io

import pyotp
import qrcode
from qrcode.image.pure import PyPNGImage

ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, the size RFC 4226 recommends for SHA-1


def make_totp(
    secret_b32: str, digits: int = 6, algorithm: str = "SHA1", period: int = 30
) -> pyotp.TOTP:
    return pyotp.TOTP(secret_b32, digits=digits, digest=ALGORITHMS[algorithm], interval=period)


def provisioning_uri(secret_b32: str, account: str, issuer: str) -> str:
    """otpauth://totp/Issuer:account?secret=...&issuer=... - what the QR code carries."""
    return make_totp(secret_b32).provisioning_uri(name=account, issuer_name=issuer)


def code_at(secret_b32: str, at: float, **options: object) -> str:
    return make_totp(secret_b32, **options).at(int(at))  # type: ignore[arg-type]


def matching_step(secret_b32: str, code: str, now: float, window: int = 1) -> int | None:
    """The time step (unix time // 30) whose code equals ``code``, looking ``window`` steps
    back and ahead for clock drift; None if none does. The caller refuses a step it has
    already accepted: that is what makes a code single-use (RFC 6238 section 5.2)."""
    totp = make_totp(secret_b32)
    if len(code) != totp.digits or not code.isdigit():
        return None
    current = int(now) // totp.interval
    for step in range(current - window, current + window + 1):
        # pyotp's HOTP computation for counter = step, compared in constant time.
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def qr_png(uri: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=PyPNGImage, box_size=6, border=2).save(buffer)
    return buffer.getvalue()


def qr_terminal(uri: str) -> str:
    """The QR code as text with half-block characters, for a terminal."""
    qr = qrcode.QRCode(border=2)
    qr.add_data(uri)
    out = io.StringIO()
    qr.print_ascii(out=out, invert=True)
    return out.getvalue()
