"""What do the choices in this lesson cost? Measured side by side in one run:

1. sign and verify per second for HS256, RS256, ES256 and EdDSA (ratios to HS256)
2. verification through a JWKS URL: PyJWKClient's cached JWK Set vs fetching it each time
3. a request to the API (GET /me) without a denylist look-up, with the in-memory one, and
   with Redis (skipped with a hint when Redis does not answer)

python bench.py            full run, writes docs/bench.png
python bench.py --quick    small sizes, no plot (CI)
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import cryptography
import httpx
import jwt
import redis

from demo.server import ServerThread
from tokens.app import create_app
from tokens.issue import Issuer
from tokens.keyring import KeyRing
from tokens.revocation import MemoryRevocations, RedisRevocations
from tokens.settings import Settings
from tokens.users import DEMO_PASSWORDS
from tokens.verify import Policy, RemoteKeys, RingKeys, verify
from tools.cli import OneLineParser

LESSON = Path(__file__).resolve().parent
ALGS = ("HS256", "RS256", "ES256", "EdDSA")
ISS, AUD = "http://localhost:8000", "bench-api"


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


def rate(
    job: Callable[[], Any], n: int, repeats: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Operations per second of ``clock``: the median of ``repeats`` timed runs of ``n``,
    after a warm-up. ``time.process_time`` counts only this process's CPU, so a busy
    neighbour on a shared machine barely moves it; wall time is for anything that waits."""
    for _ in range(max(1, n // 10)):
        job()
    runs = []
    for _ in range(repeats):
        started = clock()
        for _ in range(n):
            job()
        runs.append(n / max(clock() - started, 1e-9))
    return statistics.median(runs)


def one_algorithm(
    alg: str, claims: dict[str, Any], n: int, repeats: int
) -> tuple[float, float, int]:
    key = KeyRing(alg, 60).current
    headers = {"kid": key.kid, "typ": "at+jwt"}
    token = jwt.encode(claims, key.private, algorithm=alg, headers=headers)
    public = key.public

    def sign() -> None:
        jwt.encode(claims, key.private, algorithm=alg, headers=headers)

    def check() -> None:
        jwt.decode(token, public, algorithms=[alg], audience=AUD, issuer=ISS)

    cpu = time.process_time  # pure computation in one thread: count its CPU time
    return rate(sign, n, repeats, cpu), rate(check, n, repeats, cpu), len(token)


def algorithms(n: int, repeats: int) -> dict[str, tuple[float, float, int]]:
    """alg -> (signs/s, verifies/s, token length). Key objects are parsed once, as a server
    does: passing a PEM string to every call would measure PEM parsing instead."""
    now = int(time.time())
    claims = {
        "iss": ISS,
        "sub": "ada",
        "aud": AUD,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": "bench",
        "scope": "items:read items:write",
    }
    return {alg: one_algorithm(alg, claims, n, repeats) for alg in ALGS}


def jwks_lookup(n: int, repeats: int) -> dict[str, float]:
    """Verifications per second through the JWKS URL of a real server on a free port."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(Path(tmp))
        ring = KeyRing(settings.algorithm, settings.key_retire_after_s)
        token, _ = Issuer(ring, ISS, AUD, 300).access_token("ada", ["items:read"], "s", 0)
        policy = Policy(ISS, AUD)
        with ServerThread(create_app(settings, ring)) as server:
            url = f"{server.url}/.well-known/jwks.json"
            cached = RemoteKeys(url)
            every_time = RemoteKeys(url)
            every_time.client = jwt.PyJWKClient(url, cache_jwk_set=False)  # no cache at all
            local = RingKeys(ring)
            few = max(20, n // 20)  # a fetch is slow: fewer of them give the same precision
            cpu = time.process_time  # client and server threads both count: one process
            return {
                "cached JWK Set (lifespan 300 s)": rate(
                    lambda: verify(token, cached, policy), n, repeats, cpu
                ),
                "fetch the JWKS every time": rate(
                    lambda: verify(token, every_time, policy), few, repeats, cpu
                ),
                "own key ring, no JWKS (for scale)": rate(
                    lambda: verify(token, local, policy), n, repeats, cpu
                ),
            }


class NoDenylist:
    """The control: a revocation store that looks nothing up."""

    async def check(self, jti: str, sub: str) -> tuple[bool, int]:
        return False, 0

    async def version(self, sub: str) -> int:
        return 0

    async def aclose(self) -> None:
        return None


async def denylist(n: int, repeats: int) -> dict[str, tuple[float, float, float]]:
    """GET /me per second through the ASGI app in this process (no sockets: the difference
    between the rows is the look-up itself, not network noise). Rounds are interleaved, so a
    change in machine load hits every variant alike."""
    stores: dict[str, Any] = {
        "none (signature and claims only)": NoDenylist(),
        "memory": MemoryRevocations(30),
    }
    url = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as probe:
            probe.ping()
        stores["redis (one MGET per request)"] = RedisRevocations(
            url, f"bench:15:{os.getpid()}:", 30
        )
    except (redis.RedisError, OSError):
        print(f"redis row skipped: Redis not reachable at {url} - run: docker compose up -d redis")
    wall: dict[str, list[float]] = {name: [] for name in stores}
    cpu: dict[str, list[float]] = {name: [] for name in stores}
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(Path(tmp))
        async with AsyncExitStack() as stack:
            clients = {}
            for name, store in stores.items():
                app = create_app(settings, KeyRing(settings.algorithm, 60), store)
                await stack.enter_async_context(app.router.lifespan_context(app))
                transport = httpx.ASGITransport(app=app)
                client = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://bench")
                )
                form = {
                    "grant_type": "password",
                    "username": "ada",
                    "password": DEMO_PASSWORDS["ada"],
                }
                token = (await client.post("/token", data=form)).json()["access_token"]
                clients[name] = (client, {"Authorization": f"Bearer {token}"})
                for _ in range(max(1, n // 10)):  # warm-up
                    assert (await client.get("/me", headers=clients[name][1])).status_code == 200
            # Many short interleaved rounds: a burst of load from elsewhere hits all alike.
            rounds, per_round = repeats * 10, max(10, n // 10)
            for _ in range(rounds):
                for name, (client, headers) in clients.items():
                    w, c = time.perf_counter(), time.process_time()
                    for _ in range(per_round):
                        await client.get("/me", headers=headers)
                    wall[name].append(per_round / (time.perf_counter() - w))
                    cpu[name].append((time.process_time() - c) / per_round * 1e6)
        alone = {name: await lookup_us(store, n * 2, repeats) for name, store in stores.items()}
        for store in stores.values():
            await store.aclose()
    return {
        name: (statistics.median(wall[name]), statistics.median(cpu[name]), alone[name])
        for name in stores
    }


async def lookup_us(store: Any, n: int, repeats: int) -> float:
    """Wall microseconds of one ``check`` alone, without the request around it."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(n):
            await store.check("bench-jti", "ada")
        runs.append((time.perf_counter() - started) / n * 1e6)
    return statistics.median(runs)


def bench_settings(tmp: Path) -> Settings:
    values = {
        "database_url": f"sqlite:///{tmp / 'bench.db'}",
        "key_dir": tmp / "keys",
        "redis_url": None,
        "issuer": ISS,
        "audience": AUD,
    }
    return Settings.model_validate(values)


def plot(
    algs: dict[str, tuple[float, float, int]],
    requests: dict[str, tuple[float, float, float]],
    path: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    xs = range(len(algs))
    left.bar([x - 0.2 for x in xs], [v[0] for v in algs.values()], 0.4, label="sign")
    left.bar([x + 0.2 for x in xs], [v[1] for v in algs.values()], 0.4, label="verify")
    left.set_xticks(list(xs), list(algs))
    left.set_yscale("log")
    left.set_ylim(bottom=1000)
    left.set_ylabel("operations per second (log)")
    left.set_title("PyJWT sign and verify, one core")
    left.legend()
    names = [n.split(" (")[0] for n in requests]
    rates = [cpu for _, cpu, _ in requests.values()]
    right.bar(names, rates, color=["grey", "tab:blue", "tab:red"][: len(names)])
    right.set_ylabel("CPU microseconds per GET /me")
    right.set_title("a request with and without the denylist look-up")
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = OneLineParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    args = parser.parse_args()
    n, repeats = (100, 3) if args.quick else (2000, 5)
    print(machine())
    print(
        f"PyJWT {jwt.__version__}, cryptography {cryptography.__version__}; "
        f"medians of {repeats} runs{' (--quick)' if args.quick else ''}"
    )

    algs = algorithms(n, repeats)
    hs_sign, hs_verify, _ = algs["HS256"]
    print("\nPyJWT alone, operations per CPU-second of this process")
    print(
        f"{'algorithm':<10}{'sign/s':>10}{'verify/s':>10}{'sign vs HS256':>15}"
        f"{'verify vs HS256':>17}{'token chars':>13}"
    )
    for alg, (s, v, size) in algs.items():
        print(
            f"{alg:<10}{s:>10,.0f}{v:>10,.0f}{s / hs_sign:>14.3f}x{v / hs_verify:>16.3f}x{size:>13}"
        )

    lookups = jwks_lookup(n, repeats)
    base = next(iter(lookups.values()))
    print("\nverification through a JWKS URL (ES256), per CPU-second (client and server)")
    print(f"{'key source':<42}{'verify/s':>10}{'vs cached':>11}")
    for name, r in lookups.items():
        print(f"{name:<42}{r:>10,.0f}{r / base:>10.3f}x")

    requests = asyncio.run(denylist(n // 2, repeats))
    _, base_cpu, _ = next(iter(requests.values()))
    print("\nGET /me through the app, 1 in flight; CPU of this process per request (wall time")
    print("depends on what else runs); 'check alone' = one look-up without the request")
    print(f"{'denylist':<34}{'wall/req':>10}{'CPU/req':>10}{'CPU vs none':>13}{'check alone':>13}")
    for name, (r, c, alone) in requests.items():
        print(f"{name:<34}{1e6 / r:>7.0f} us{c:>7.0f} us{c / base_cpu:>12.3f}x{alone:>10.1f} us")

    if not args.quick:
        plot(algs, requests, LESSON / "docs" / "bench.png")
        print("\nplot: docs/bench.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
