"""The key ring: which key signs now, which keys a verifier may meet, and rotation.

Rotation without logging anyone out takes three states, all published in the JWKS:

    next      published, not yet signing   verifiers fetch it before it is ever used
    current   signs every new token
    retiring  no longer signs; published until the last token it signed has expired

``rotate()`` moves every key one step (next -> current -> retiring) and makes a new ``next``.
Because the new current key was published one rotation earlier, a verifier with a cached
JWKS already knows it; because the old one stays until ``retire_after_s`` has passed, every
token it signed keeps verifying until that token's own ``exp``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokens import keys
from tokens.keys import SigningKey


@dataclass(frozen=True)
class Entry:
    key: SigningKey
    state: str  # "next" | "current" | "retiring"
    retire_at: float | None = None  # unix time after which a retiring key is dropped


class KeyRing:
    def __init__(self, alg: str, retire_after_s: float, directory: Path | None = None) -> None:
        """``directory`` keeps the keys across restarts (PEM files, mode 0600); None keeps
        them in memory. ``retire_after_s`` must cover the longest token life plus leeway."""
        if alg not in keys.ALGORITHMS:
            raise ValueError(f"unsupported algorithm {alg!r}: use one of {keys.ALGORITHMS}")
        self.alg, self.retire_after_s, self.directory = alg, retire_after_s, directory
        self._lock = threading.Lock()  # rotate() may run while requests sign and verify
        self._entries: list[Entry] = []
        if directory is not None and (directory / "ring.json").is_file():
            self._entries = self._load(directory)
        if not any(e.state == "current" for e in self._entries):
            self._entries = [
                Entry(keys.generate(alg), "current"),
                Entry(keys.generate(alg), "next"),
            ]
            self._save()

    @property
    def current(self) -> SigningKey:
        return next(e.key for e in self._entries if e.state == "current")

    def find(self, kid: object, now: float | None = None) -> SigningKey | None:
        """The published key with this kid, or None. A kid is only ever a dictionary key here:
        never a file name, a URL or a database query, whatever text an attacker puts in it."""
        if not isinstance(kid, str):
            return None
        return next((e.key for e in self.published(now) if e.key.kid == kid), None)

    def published(self, now: float | None = None) -> list[Entry]:
        now = time.time() if now is None else now
        return [e for e in self._entries if e.retire_at is None or e.retire_at > now]

    def jwks(self, now: float | None = None) -> dict[str, Any]:
        """The document served at /.well-known/jwks.json (RFC 7517 section 5)."""
        if self.alg == "HS256":
            return {"keys": []}  # a shared secret is never published
        return {"keys": [e.key.public_jwk() for e in self.published(now)]}

    def rotate(self, now: float | None = None) -> SigningKey:
        """next -> current -> retiring; returns the new current key."""
        now = time.time() if now is None else now
        with self._lock:
            moved: list[Entry] = []
            for e in self.published(now):
                if e.state == "current":
                    moved.append(Entry(e.key, "retiring", now + self.retire_after_s))
                elif e.state == "next":
                    moved.append(Entry(e.key, "current"))
                else:
                    moved.append(e)
            moved.append(Entry(keys.generate(self.alg), "next"))
            self._entries = moved
            self._save()
        return self.current

    # -- persistence: var/keys/ring.json lists the keys, one PEM file per kid -------------

    def _save(self) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for e in self._entries:
            path = self.directory / f"{e.key.kid}.pem"
            if not path.exists():
                # Created with 0600 from the start: a private key is never world-readable,
                # not even for the moment between writing and chmod.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(e.key.private_pem())
        ring = [
            {"kid": e.key.kid, "alg": e.key.alg, "state": e.state, "retire_at": e.retire_at}
            for e in self._entries
        ]
        tmp = self.directory / "ring.json.tmp"
        tmp.write_text(json.dumps(ring, indent=2))
        tmp.replace(self.directory / "ring.json")  # atomic: a crash leaves old or new, not half
        # A retired private key has no use left, only risk: delete its file. Only keys of this
        # ring's algorithm: a ring of another JWT_ALGORITHM left its files for a manual look.
        live = {f"{e.key.kid}.pem" for e in self._entries}
        own = "hs-" if self.alg == "HS256" else f"{self.alg.lower()}-"
        for pem in self.directory.glob(f"{own}*.pem"):
            if pem.name not in live:
                pem.unlink()

    def _load(self, directory: Path) -> list[Entry]:
        ring = json.loads((directory / "ring.json").read_text())
        entries = [
            Entry(
                keys.load(
                    item["kid"], item["alg"], (directory / f"{item['kid']}.pem").read_bytes()
                ),
                item["state"],
                item["retire_at"],
            )
            for item in ring
        ]
        if any(e.key.alg != self.alg for e in entries):
            # Changing JWT_ALGORITHM starts a new ring; the old files stay for a manual look.
            return []
        return entries
