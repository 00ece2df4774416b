"""What does password hashing cost the server, and what does it cost an attacker?

1. CPU time per hash: argon2id at a few parameter sets, bcrypt at cost 10-14, salted SHA-256;
   guesses per second per core an attacker with a leaked table gets from each (ratios)
2. logins per second through POST /token at the chosen cost, next to a request that hashes
   nothing (GET /users/me), on a real server on a free port
3. the answer time for an unknown user vs a wrong password (ratio near 1.0 is the goal), and
   what it would be without the dummy hash

python bench.py            full run, writes docs/hashing.png
python bench.py --quick    fewer parameter sets and repeats, no plot (CI)
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import platform
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import httpx
from argon2 import PasswordHasher

from auth.app import create_app
from auth.passwords import Passwords
from auth.settings import Settings
from cli import OneLineParser, settings_or_exit
from demo.server import ServerThread

LESSON = Path(__file__).resolve().parent
PASSWORD = "correct horse battery staple"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no plot")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per row (median)")
    parser.add_argument("--rounds", type=int, default=40, help="requests per login run")
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= 100:
        parser.error("--repeats must be 1-100")
    if not 4 <= args.rounds <= 10_000:
        parser.error("--rounds must be 4-10000")
    return args


def machine() -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, load average {load}"
    )


def cpu_seconds(job: Callable[[], Any], repeats: int, per_run: int = 1) -> float:
    """Median CPU seconds of one call. process_time counts this process's CPU only (all its
    threads), so a busy neighbour on a shared machine barely moves it."""
    job()  # warm-up
    runs = []
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(per_run):
            job()
        runs.append((time.process_time() - started) / per_run)
    return statistics.median(runs)


def hashing_rows(quick: bool, repeats: int, chosen: Settings) -> list[tuple[str, float]]:
    """(label, CPU seconds per hash) for every scheme, the chosen one marked."""
    argon2_sets = [(chosen.argon2_memory_kib, chosen.argon2_time_cost, chosen.argon2_parallelism)]
    argon2_sets += [(47_104, 1, 1), (65_536, 3, 4)] if not quick else [(65_536, 3, 4)]
    rows: list[tuple[str, float]] = []
    for memory, passes, lanes in argon2_sets:
        hasher = PasswordHasher(time_cost=passes, memory_cost=memory, parallelism=lanes)
        stored = hasher.hash(PASSWORD)
        mark = " (chosen)" if (memory, passes, lanes) == argon2_sets[0] else ""
        label = f"argon2id m={memory // 1024}MiB t={passes} p={lanes}{mark}"
        check = functools.partial(hasher.verify, stored, PASSWORD)
        rows.append((label, cpu_seconds(check, repeats)))
    for cost in (10, 12) if quick else (10, 11, 12, 13, 14):
        stored_b = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(cost))
        tries = max(1, repeats if cost <= 12 else repeats // 2)
        check_b = functools.partial(bcrypt.checkpw, PASSWORD.encode(), stored_b)
        rows.append((f"bcrypt cost {cost}", cpu_seconds(check_b, tries)))
    salt = secrets.token_bytes(16)
    # Salted SHA-256: the "we hash our passwords" that is not enough. 20,000 per run so the
    # clock can see it.
    sha = cpu_seconds(lambda: hashlib.sha256(salt + PASSWORD.encode()).digest(), repeats, 20_000)
    rows.append(("SHA-256 (salted, one pass)", sha))
    return rows


def print_hashing(rows: list[tuple[str, float]]) -> None:
    sha = rows[-1][1]
    print(f"\n{'scheme':<36}{'CPU ms/hash':>12}{'guesses/s/core':>16}{'slower than SHA-256':>21}")
    for label, seconds in rows:
        rate = 1 / seconds
        shown = f"{rate:,.1f}" if rate < 100 else f"{rate:,.0f}"
        print(f"{label:<36}{seconds * 1000:>12.4f}{shown:>16}{seconds / sha:>20,.0f}x")


def bench_settings(tmp: Path, chosen: Settings) -> Settings:
    # The chosen hashing cost, a throwaway database, and no throttle in the way of the load.
    return chosen.model_copy(update={
        "database_url": f"sqlite:///{tmp / 'bench.db'}", "redis_url": None,
        "throttle_free_failures": 1_000_000, "throttle_ip_free_failures": 1_000_000,
        "cookie_secure": False,
    })  # fmt: skip


def requests_per_s(
    url: str, make: Callable[[httpx.Client], httpx.Response], n: int
) -> tuple[float, float]:
    """(requests/s, CPU seconds per request) for n requests from 4 client threads at once.
    The CPU is this whole process's (server and client threads): unlike requests/s, it
    hardly moves when other programs load the machine."""
    workers, done = 4, []

    def worker(count: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            for _ in range(count):
                make(http).raise_for_status()
                done.append(1)

    started, cpu = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=worker, args=(n // workers,)) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return len(done) / wall, (time.process_time() - cpu) / len(done)


def answer_times(http: httpx.Client, passwords: Passwords, n: int) -> dict[str, float]:
    """Median answer time of a failed login per case, the cases interleaved request by
    request so that a change in the machine's load hits all of them alike."""
    real_verify = passwords.verify

    def early_return(pw: str, stored: str | None) -> tuple[bool, str | None]:
        # What the code would do without a dummy hash: no such user, answer at once.
        return real_verify(pw, stored) if stored is not None else (False, None)

    cases = {"wrong": ("ada", real_verify), "unknown": ("nobody", real_verify),
             "early": ("nobody", early_return)}  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(n):
        for name in list(cases)[i % 3 :] + list(cases)[: i % 3]:
            user, verify = cases[name]
            passwords.verify = verify  # type: ignore[method-assign,assignment]
            form = {"grant_type": "password", "username": user, "password": f"wrong-{i}"}
            started = time.perf_counter()
            http.post("/token", data=form)
            times[name].append(time.perf_counter() - started)
    passwords.verify = real_verify  # type: ignore[method-assign]
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def http_rows(chosen: Settings, rounds: int, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(bench_settings(Path(tmp), chosen))
        with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
            app.state.services.users.create("ada", PASSWORD, ["clerk"])
            form = {"grant_type": "password", "username": "ada", "password": PASSWORD}
            token = http.post("/token", data=form).json()["access_token"]
            me = {"Authorization": f"Bearer {token}"}
            runs = max(1, repeats // 2)
            login_runs = [
                requests_per_s(server.url, lambda c: c.post("/token", data=form), rounds)
                for _ in range(runs)
            ]
            cheap_runs = [
                requests_per_s(server.url, lambda c: c.get("/users/me", headers=me), rounds * 5)
                for _ in range(runs)
            ]
            answers = answer_times(http, app.state.services.passwords, max(9, rounds // 2))
    return {
        "logins": statistics.median(r for r, _ in login_runs),
        "login_cpu": statistics.median(c for _, c in login_runs),
        "cheap": statistics.median(r for r, _ in cheap_runs),
        "cheap_cpu": statistics.median(c for _, c in cheap_runs),
        **answers,
    }


def print_http(r: dict[str, float], chosen: Settings) -> None:
    cost = f"argon2id m={chosen.argon2_memory_kib // 1024}MiB t={chosen.argon2_time_cost}"
    cores = os.cpu_count() or 1
    print(f"\n{'request (real server, 4 client threads)':<42}{'per s':>8}{'CPU ms/req':>12}"
          f"{'CPU vs none':>13}{'CPU ceiling/s':>15}")  # fmt: skip
    for label, rate, cpu in (
        ("GET /users/me (no hashing)", r["cheap"], r["cheap_cpu"]),
        (f"POST /token, {cost}", r["logins"], r["login_cpu"]),
    ):
        print(f"{label:<42}{rate:>8.1f}{cpu * 1000:>12.1f}{cpu / r['cheap_cpu']:>12.1f}x"
              f"{cores / cpu:>15.0f}")  # fmt: skip
    print(f"\n{'failed login, answer time':<42}{'median ms':>10}{'vs wrong pw':>12}")
    print(f"{'wrong password (known user)':<42}{r['wrong']:>10.1f}{'1.00':>12}")
    print(f"{'unknown user, dummy hash (this lesson)':<42}{r['unknown']:>10.1f}"
          f"{r['unknown'] / r['wrong']:>12.2f}")  # fmt: skip
    print(f"{'unknown user, early return (the leak)':<42}{r['early']:>10.1f}"
          f"{r['early'] / r['wrong']:>12.2f}")  # fmt: skip


def plot(rows: list[tuple[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [label.replace(" (chosen)", "*") for label, _ in rows]
    rates = [1 / seconds for _, seconds in rows]
    colors = ["#2a7" if "argon2" in lb else "#37c" if "bcrypt" in lb else "#c33" for lb in labels]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.barh(labels[::-1], rates[::-1], color=colors[::-1])
    ax.set_xscale("log")
    ax.set_xlabel("guesses per second per CPU core (log scale) - lower is better")
    ax.set_title("What a leaked hash gives an attacker (* = this lesson's setting)")
    for i, rate in enumerate(rates[::-1]):
        ax.text(rate, i, f" {rate:,.0f}", va="center", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    chosen = settings_or_exit()
    repeats = 2 if args.quick else args.repeats
    rounds = 12 if args.quick else args.rounds
    print(machine())
    print("CPU time per verification (median of repeats); guesses/s/core = 1 / CPU time")
    rows = hashing_rows(args.quick, repeats, chosen)
    print_hashing(rows)
    print_http(http_rows(chosen, rounds, repeats), chosen)
    if not args.quick:
        plot(rows, LESSON / "docs" / "hashing.png")
        print("\nplot: docs/hashing.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
