"""`main.py decode` and `main.py verify`: read or check a token from anywhere.

decode prints what a token *says*; verify prints what can be *believed*, or one line naming
why not. Keys come from exactly one place: an HMAC secret, a JWK file, or a JWKS URL.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jwt

from tokens import anatomy
from tokens.verify import (
    KeySource,
    KeysUnavailable,
    Policy,
    RemoteKeys,
    StaticKey,
    TokenRefused,
    verify,
)

HMAC_ALGS = ("HS256", "HS384", "HS512")
ALGS = (*HMAC_ALGS, "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


class BadArgument(Exception):
    """Exit 2: the command line itself is wrong (not the token)."""


def decode(token: str) -> int:
    try:
        parts = anatomy.split(token.strip())
    except anatomy.MalformedToken as exc:
        print(f"decode: not a JWT: {exc}", file=sys.stderr)
        return 1
    print("NOT VERIFIED - anyone can write these bytes; use `verify` before believing them")
    print("header: " + json.dumps(parts.header, indent=2))
    print("claims: " + json.dumps(parts.claims, indent=2))
    print(f"signature: {len(parts.signature)} bytes over {len(parts.signing_input)} bytes of input")
    return 0


def key_source(args: argparse.Namespace) -> tuple[KeySource, frozenset[str] | None]:
    """The keys, and the --alg allow-list (None: whatever each key allows)."""
    wanted = frozenset(args.alg) if args.alg else None
    if args.secret_b64url is not None:
        try:
            # Strict, as for a token's parts: a lenient decoder skips what is not base64url,
            # and "!!!" would become an empty key refused later as the token's fault.
            secret = anatomy.b64url_decode(args.secret_b64url.rstrip("="))
        except anatomy.MalformedToken:
            secret = b""
        if not secret:
            raise BadArgument("--secret-b64url is not base64url (of at least one byte)")
        algs = wanted or frozenset({"HS256"})
        if not algs <= set(HMAC_ALGS):
            raise BadArgument("--secret-b64url works with HS256, HS384 or HS512 only")
        return StaticKey(secret, algs), None
    if args.jwk is not None:
        try:
            jwk = jwt.PyJWK(json.loads(Path(args.jwk).read_text()))
        except OSError as exc:
            raise BadArgument(f"--jwk {args.jwk}: {exc.strerror}") from None
        except (ValueError, jwt.PyJWTError) as exc:
            raise BadArgument(f"--jwk {args.jwk}: not a usable JWK ({exc})") from None
        return StaticKey(jwk.key, frozenset({jwk.algorithm_name})), wanted
    if not args.jwks_url.startswith(("http://", "https://")):
        raise BadArgument("--jwks-url must be an http:// or https:// URL")
    return RemoteKeys(args.jwks_url, cooldown_s=0), wanted


def verify_cmd(args: argparse.Namespace) -> int:
    try:
        keys, algorithms = key_source(args)
    except BadArgument as exc:
        print(f"main.py verify: error: {exc}", file=sys.stderr)
        return 2
    policy = Policy(
        issuer=args.iss,
        audience=args.aud,
        leeway_s=0,  # the command states what holds now, on this clock
        require=() if args.no_exp else ("exp",),
        verify_exp=not args.no_exp,
        typ=None,  # tokens from anywhere: not only this lesson's access tokens
    )
    try:
        claims = verify(args.token.strip(), keys, policy, algorithms)
    except TokenRefused as exc:
        print(f"refused: {exc.reason}: {exc.detail}", file=sys.stderr)
        return 1
    except KeysUnavailable as exc:
        print(f"{exc} - is the auth server running? (python main.py serve)", file=sys.stderr)
        return 1
    print(json.dumps(claims, indent=2))
    return 0
