#!/usr/bin/env python3
"""Run, test, measure and check the lessons of this repository.

    python lessons.py list                     every lesson, its status and the services it needs
    python lessons.py run 03 [args...]         venv + install + python main.py args
    python lessons.py test [03 05 ...]         each lesson's pytest in its own venv, then a summary
    python lessons.py bench [03 ...] [--quick] each lesson's bench.py
    python lessons.py doctor                   which services answer, how to start the rest
    python lessons.py check [03 ...]           every lesson has the shape the guide asks for
    python lessons.py lock                     regenerate constraints.txt (needs uv)

Standard library only, so it runs on a fresh Python 3.11+ on Linux, macOS and Windows.
A lesson is named by its number (03), its full name (03-async-python) or a unique prefix.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CONSTRAINTS = ROOT / "constraints.txt"
STAMP = ".lessons-stamp"


@dataclass(frozen=True)
class Lesson:
    name: str
    summary: str
    services: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return ROOT / self.name

    @property
    def number(self) -> str:
        return self.name[:2]

    @property
    def ready(self) -> bool:
        # A lesson is ready once its folder holds something to run; the catalogue below
        # lists the planned ones too, so the README and `list` can be honest about both.
        return (self.path / "main.py").is_file()


CATALOGUE: tuple[Lesson, ...] = (
    Lesson(
        "01-websockets", "real-time chat: rooms, presence, heartbeats, slow consumers", ("redis",)
    ),
    Lesson("02-sqlalchemy", "the 2.0 ORM: models, sessions, N+1, pooling, async", ("postgres",)),
    Lesson("03-async-python", "asyncio: tasks, TaskGroup, cancellation, what blocks the loop"),
    Lesson(
        "04-alembic", "migrations: autogenerate, data moves, branches, zero downtime", ("postgres",)
    ),
    Lesson(
        "05-fastapi-gateway", "REST services behind a gateway: auth, limits, retries", ("redis",)
    ),
    Lesson("06-etl-pipeline", "extract, validate, quarantine and load idempotently", ("postgres",)),
    Lesson("07-parallel-processing", "processes, threads, pools, shared memory vs core count"),
    Lesson(
        "08-testing", "unit, integration, API, property-based and mutation tests", ("postgres",)
    ),
    Lesson(
        "09-postgresql", "CTEs, window functions, indexes, JSONB, isolation, tuning", ("postgres",)
    ),
    Lesson(
        "10-celery",
        "a distributed task queue: retries, chords, idempotent tasks",
        ("rabbitmq", "redis"),
    ),
    Lesson(
        "11-apscheduler",
        "scheduled jobs: triggers, persistent job stores, missed runs",
        ("postgres",),
    ),
    Lesson(
        "12-elk-logging",
        "structured logs shipped to Elasticsearch and searched",
        ("elasticsearch",),
    ),
    Lesson("13-opentelemetry", "traces, metrics and context propagation to Jaeger", ("jaeger",)),
    Lesson(
        "14-redis-rabbitmq",
        "caching, pub/sub, streams and AMQP routing compared",
        ("redis", "rabbitmq"),
    ),
    Lesson(
        "15-jwt",
        "JSON Web Tokens: signing, verification, rotation, revocation",
        ("postgres", "redis"),
    ),
    Lesson(
        "16-authentication",
        "password hashing, OAuth2 password and PKCE flows, sessions, RBAC, TOTP",
        ("postgres", "redis"),
    ),
    Lesson(
        "17-resilience", "rate limits, retries, jitter, deadlines, bulkheads, shedding", ("redis",)
    ),
    Lesson(
        "18-event-processing",
        "outbox, idempotent consumers, dead letters, replay",
        ("rabbitmq", "postgres"),
    ),
    Lesson(
        "19-prometheus-grafana", "metrics, alerts and dashboards for a service", ("prometheus",)
    ),
    Lesson(
        "20-microservices",
        "services, gateway, messaging and tracing together",
        ("postgres", "redis", "rabbitmq", "jaeger"),
    ),
)


class UsageError(Exception):
    """A bad name or argument: one line on stderr, exit code 2."""


# --------------------------------------------------------------------------- naming


def resolve(name: str) -> Lesson:
    if len(name) == 1 and name in "123456789":
        name = name.zfill(2)  # "3" is lesson 03, as a learner types it
    exact = [lesson for lesson in CATALOGUE if name in (lesson.name, lesson.number)]
    matches = exact or [lesson for lesson in CATALOGUE if lesson.name.startswith(name)]
    if len(matches) != 1:
        ready = [lesson.name for lesson in CATALOGUE if lesson.ready]
        valid = ", ".join(ready or [lesson.name for lesson in CATALOGUE])
        why = "matches several lessons" if matches else "is not a lesson"
        raise UsageError(f"'{name}' {why}; valid names: {valid} (or their numbers)")
    return matches[0]


def resolve_ready(names: list[str]) -> list[Lesson]:
    if not names:
        return [lesson for lesson in CATALOGUE if lesson.ready]
    lessons = [resolve(name) for name in names]
    for lesson in lessons:
        if not lesson.ready:
            ready = ", ".join(lesson.name for lesson in CATALOGUE if lesson.ready)
            raise UsageError(
                f"{lesson.name} is planned and not written yet (see README.md); ready: {ready}"
            )
    return lessons


# --------------------------------------------------------------------------- environments


def venv_python(folder: Path) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    exe = "python.exe" if os.name == "nt" else "python"
    return folder / ".venv" / scripts / exe


def requirements_digest(requirements: Path) -> str:
    # The stamp covers what decides the install: the lesson's ranges, the shared pins and
    # the interpreter. Any change reinstalls; no change skips the installer entirely.
    digest = hashlib.sha256(requirements.read_bytes())
    if CONSTRAINTS.is_file():
        digest.update(CONSTRAINTS.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv(folder: Path, requirements: Path) -> Path:
    """Create `folder/.venv` and install requirements into it, only when they changed."""
    python = venv_python(folder)
    stamp = folder / ".venv" / STAMP
    wanted = requirements_digest(requirements)
    if python.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    constraint = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.is_file() else []
    uv = shutil.which("uv")
    label = folder.name if folder != ROOT else "repository tests"
    print(f"[lessons] installing {label} ({'uv' if uv else 'venv + pip'})", flush=True)
    if uv:
        if not python.is_file():
            run_checked([uv, "venv", "--quiet", "--python", sys.executable, str(folder / ".venv")])
        # Bytecode compiled at install, not at first import: every subprocess a test starts
        # would otherwise parse the same libraries again until the first one wrote its cache.
        install = [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python)]
    else:
        if not python.is_file():
            run_checked([sys.executable, "-m", "venv", str(folder / ".venv")])
        install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run_checked([*install, "-r", str(requirements), *constraint])
    stamp.write_text(wanted)
    return python


def run_foreground(cmd: list[str], cwd: Path) -> int:
    """Run cmd as the terminal's job and wait for it, however it ends.

    Ctrl-C reaches every process of the terminal's foreground group, so the lesson gets it
    directly. The runner must not act on it too: subprocess.run would kill the child 0.25 s
    later, before the lesson's own shutdown has stopped its servers and workers (they would be
    left behind holding ports). So the runner notes the interrupt, keeps waiting for the child,
    then stops. A SIGTERM sent to the runner alone is passed on to the child for the same reason.
    """
    interrupted: list[int] = []
    child = subprocess.Popen(cmd, cwd=cwd)

    def note(signum: int, _frame: object) -> None:
        interrupted.append(signum)
        if signum != signal.SIGINT:
            child.send_signal(signum)

    # A Python-level handler (not SIG_IGN) so nothing is inherited: the child starts with defaults.
    watched = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {signum: signal.signal(signum, note) for signum in watched}
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if interrupted:
        raise KeyboardInterrupt
    return 128 - code if code < 0 else code  # killed by signal N: the shell's 128 + N


def run_checked(cmd: list[str]) -> None:
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        raise SystemExit(f"[lessons] command failed ({result.returncode}): {' '.join(cmd)}")


# --------------------------------------------------------------------------- test


@dataclass
class Outcome:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.note


def read_junit(report: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from pytest's JUnit XML; failures and errors both count."""
    tests = failed = skipped = 0
    for suite in ET.parse(report).getroot().iter("testsuite"):
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def run_pytest(name: str, folder: Path, requirements: Path, extra: list[str]) -> Outcome:
    print(f"\n===== {name} =====", flush=True)
    python = ensure_venv(folder, requirements)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        start = time.perf_counter()
        code = run_foreground(
            [str(python), "-m", "pytest", f"--junitxml={report}", *extra], cwd=folder
        )
        outcome = Outcome(name, seconds=time.perf_counter() - start)
        has_report = report.is_file()
        if has_report:
            outcome.passed, outcome.failed, outcome.skipped = read_junit(report)
    counted = outcome.passed + outcome.failed + outcome.skipped
    if code != 0 and not outcome.failed:
        # 5 is pytest's "no tests collected": an existing lesson with no tests is a failure.
        outcome.note = "no tests ran" if code == 5 else f"pytest exit code {code}"
    elif not has_report:
        # Without the report nothing was counted, so nothing may be called green (an extra
        # --junitxml=... replaces ours).
        outcome.note = "no test report (do not pass --junitxml)"
    elif counted == 0:
        outcome.note = "no tests ran"  # e.g. --collect-only: exit 0, nothing executed
    if outcome.skipped and fail_on_skip():
        outcome.note = f"{outcome.skipped} skipped (LESSONS_FAIL_ON_SKIP is set)"
    return outcome


def fail_on_skip() -> bool:
    value = os.environ.get("LESSONS_FAIL_ON_SKIP", "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise UsageError(f"LESSONS_FAIL_ON_SKIP={value!r}: use 1 or 0")


def cmd_test(names: list[str], extra: list[str]) -> int:
    # No names: the repository's own tests, then every ready lesson. "repository" names the former.
    lesson_names = [name for name in names if name != "repository"]
    fail_on_skip()  # a value it cannot read is a usage error now, not after the first lesson
    outcomes: list[Outcome] = []
    if not names or "repository" in names:
        outcomes.append(run_pytest("repository", ROOT, ROOT / "tests" / "requirements.txt", extra))
    for lesson in resolve_ready(lesson_names) if lesson_names or not names else []:
        outcomes.append(
            run_pytest(lesson.name, lesson.path, lesson.path / "requirements.txt", extra)
        )
    print()
    print(f"{'lesson':<26}{'passed':>8}{'failed':>8}{'skipped':>9}{'seconds':>9}  result")
    for o in outcomes:
        result = "ok" if o.ok else f"FAIL {o.note}".strip()
        print(f"{o.name:<26}{o.passed:>8}{o.failed:>8}{o.skipped:>9}{o.seconds:>9.1f}  {result}")
    total = [sum(getattr(o, f) for o in outcomes) for f in ("passed", "failed", "skipped")]
    # A plain closing line that any CI can read, whatever ran above it.
    print(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 0 if all(o.ok for o in outcomes) else 1


# --------------------------------------------------------------------------- run / bench


def run_script(lesson: Lesson, script: str, args: list[str]) -> int:
    python = ensure_venv(lesson.path, lesson.path / "requirements.txt")
    return run_foreground([str(python), script, *args], cwd=lesson.path)


def cmd_bench(names: list[str], quick: bool, every: bool) -> int:
    if not names and not every:
        raise UsageError(
            "bench needs a lesson (python lessons.py bench 03), or --all for every lesson's bench"
            " (a full run takes minutes each; add --quick for seconds)"
        )
    if names and every:
        raise UsageError("bench takes lessons or --all, not both")
    lessons = resolve_ready(names)
    if every:
        mode = "quick (seconds each)" if quick else "full (minutes each, plots written to docs/)"
        print(f"[lessons] {len(lessons)} benches, {mode}: {', '.join(x.number for x in lessons)}")
    failed = []
    for lesson in lessons:
        print(f"\n===== bench {lesson.name}{' --quick' if quick else ''} =====", flush=True)
        if run_script(lesson, "bench.py", ["--quick"] if quick else []) != 0:
            failed.append(lesson.name)
    if failed:
        print(f"\n[lessons] bench failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


# --------------------------------------------------------------------------- list


def cmd_list() -> int:
    print(f"{'lesson':<24}{'status':<9}{'services':<34}what you learn")
    for lesson in CATALOGUE:
        status = "ready" if lesson.ready else "planned"
        services = ", ".join(lesson.services) or "none"
        print(f"{lesson.name:<24}{status:<9}{services:<34}{lesson.summary}")
    return 0


# --------------------------------------------------------------------------- doctor
#
# Each probe speaks just enough of the service's own protocol to tell "a Redis answers here"
# from "something listens on 6379", using the standard library only.


@dataclass(frozen=True)
class Service:
    name: str
    env: str
    default: str
    probe_hello: bytes
    expect: bytes


SERVICES: tuple[Service, ...] = (
    # PostgreSQL answers an SSLRequest with one byte: S (yes) or N (no).
    Service(
        "postgres",
        "DATABASE_URL",
        "postgresql://postgres:postgres@localhost:5432/lessons",
        b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
        b"",
    ),
    Service("redis", "REDIS_URL", "redis://localhost:6379/0", b"PING\r\n", b"+PONG"),
    # AMQP 0-9-1 protocol header; the broker answers with a Connection.Start method frame.
    Service(
        "rabbitmq",
        "RABBITMQ_URL",
        "amqp://guest:guest@localhost:5672/",
        b"AMQP\x00\x00\x09\x01",
        b"\x01",
    ),
    Service(
        "elasticsearch",
        "ELASTICSEARCH_URL",
        "http://localhost:9200",
        b"GET / HTTP/1.0\r\n\r\n",
        b"HTTP/",
    ),
    Service("jaeger", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317", b"", b""),
)


def probe(service: Service, url: str, timeout: float = 1.5) -> str | None:
    """None when the service answers at url, else a short reason."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    default_ports = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672, "elasticsearch": 9200}
    port = parts.port or default_ports.get(service.name, 80)
    try:
        with socket.create_connection(
            (parts.hostname or "localhost", port), timeout=timeout
        ) as sock:
            if not service.probe_hello:
                return None  # OTLP/gRPC: an open port is all we can check without a client
            sock.sendall(service.probe_hello)
            reply = sock.recv(64)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if service.name == "postgres":
        return None if reply[:1] in (b"S", b"N") else "not a PostgreSQL server"
    return None if reply.startswith(service.expect) else f"unexpected reply {reply[:16]!r}"


def cmd_doctor() -> int:
    print(f"Python {sys.version.split()[0]} at {sys.executable}")
    print(f"uv: {shutil.which('uv') or 'not found (venv + pip is used instead)'}")
    print(f"docker: {shutil.which('docker') or 'not found'}\n")
    missing = 0
    for service in SERVICES:
        url = os.environ.get(service.env, service.default)
        if service.name == "postgres" and not url.startswith("postgres"):
            url = service.default  # DATABASE_URL may point at SQLite; probe the compose server
        reason = probe(service, url)
        users = ", ".join(lesson.number for lesson in CATALOGUE if service.name in lesson.services)
        if reason is None:
            print(f"  ok       {service.name:<14} {url}")
        else:
            missing += 1
            print(f"  missing  {service.name:<14} {url} ({reason})")
            print(f"           start it: docker compose up -d {service.name}   (lessons {users})")
    if missing:
        print(
            "\nLessons run without a service on their embedded default; its tests are skipped "
            "with a hint."
        )
    return 0


# --------------------------------------------------------------------------- check

REQUIRED_FILES = (
    "README.md",
    "requirements.txt",
    "main.py",
    "bench.py",
    ".env.example",
    "tests/conftest.py",
)
README_SECTIONS = (
    "what you'll learn",
    "run it",
    "how it works",
    "measured",
    "when things go wrong",
    "exercises",
    "going further",
)


README_WORDS = 2200  # about 15 minutes of reading; details belong in docs/notes.md
# Code that serves the lesson but is not its concept: the package must never import it.
RIG_FOLDERS = frozenset({"tests", "testkit", "demo", "tools", "loadgen"})


def readme_words(text: str) -> int:
    """Words of prose and tables; fenced code (commands and their output) is not reading."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return len(re.findall(r"[A-Za-z0-9][\w'.,%-]*", prose))


def rig_imports(path: Path) -> list[str]:
    """'pkg/mod.py imports demo' for every import of the rig from inside a concept package.

    The rig is everything at the lesson's top level that is not a concept package: main.py,
    bench.py and any other top-level module, and the folders in RIG_FOLDERS.
    """
    import ast

    top_modules = {p.stem for p in path.glob("*.py")}
    packages = [
        p
        for p in sorted(path.iterdir())
        if p.is_dir() and (p / "__init__.py").is_file() and p.name not in RIG_FOLDERS
    ]
    rig = RIG_FOLDERS | top_modules
    found = []
    for package in packages:
        for source in sorted(package.rglob("*.py")):
            try:
                tree = ast.parse(source.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue  # ruff reports it; the check is about structure
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] in rig:
                        found.append(f"{source.relative_to(path).as_posix()} imports {name}")
    return found


def check_lesson(lesson: Lesson) -> list[str]:
    """What the lesson lacks of the guide's anatomy, as readable lines (empty when complete)."""
    path = lesson.path
    problems = [f"missing {name}" for name in REQUIRED_FILES if not (path / name).is_file()]
    if not list((path / "tests").glob("test_*.py")):
        problems.append("missing tests/test_*.py")
    has_ini = (path / "pytest.ini").is_file() or (
        (path / "pyproject.toml").is_file()
        and "[tool.pytest.ini_options]" in (path / "pyproject.toml").read_text(encoding="utf-8")
    )
    if not has_ini:
        problems.append("missing pytest.ini (or [tool.pytest.ini_options] in pyproject.toml)")
    if (path / "requirements.txt").is_file():
        for line in (path / "requirements.txt").read_text(encoding="utf-8").splitlines():
            if "==" in line.split("#")[0]:
                problems.append(
                    f"requirements.txt pins exactly ({line.strip()}): use a range, "
                    "exact versions belong in constraints.txt"
                )
    readme = path / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        heads = [h.strip().lower() for h in re.findall(r"^##\s+(.+)$", text, re.M)]
        where = {
            s: next((i for i, h in enumerate(heads) if h.startswith(s)), -1)
            for s in README_SECTIONS
        }
        absent = [s for s, i in where.items() if i < 0]
        if absent:
            problems.append(f"README has no section {absent}")
        elif list(where.values()) != sorted(where.values()):
            problems.append("README sections out of order: " + ", ".join(README_SECTIONS))
        for target in re.findall(r"\]\(((?!https?:|#|mailto:)[^)\s]+)\)", text):
            if not (path / target.split("#")[0]).exists():
                problems.append(f"README links to {target}, which does not exist")
        words = readme_words(text)
        if words > README_WORDS:
            problems.append(
                f"README is {words} words of prose (at most {README_WORDS}): "
                "move details to docs/notes.md"
            )
    problems += [f"the concept package imports its rig: {line}" for line in rig_imports(path)]
    return problems


def root_readme_status() -> list[str]:
    readme = ROOT / "README.md"
    if not readme.is_file():
        return ["missing root README.md"]
    text = readme.read_text(encoding="utf-8")
    problems = []
    for lesson in CATALOGUE:
        row = next(
            (line for line in text.splitlines() if line.startswith("|") and lesson.name in line),
            None,
        )
        want = "ready" if lesson.ready else "planned"
        if row is None:
            problems.append(f"README.md has no table row for {lesson.name}")
        elif want not in row.lower():
            problems.append(f"README.md should list {lesson.name} as {want}")
    return problems


def cmd_check(lessons: list[Lesson]) -> int:
    failures = 0
    for problem in root_readme_status():
        failures += 1
        print(f"repository: {problem}")
    for lesson in lessons:
        problems = check_lesson(lesson)
        failures += len(problems)
        print(f"{lesson.name}: {'ok' if not problems else ''}")
        for problem in problems:
            print(f"  - {problem}")
    print(f"check: {failures} problem(s)")
    return 1 if failures else 0


# --------------------------------------------------------------------------- lock


def cmd_lock() -> int:
    """One resolution of every lesson's requirements (and the repository tests'), pinned."""
    uv = shutil.which("uv")
    if not uv:
        raise UsageError("lock needs uv: pip install uv")
    inputs = [str((ROOT / "tests" / "requirements.txt").relative_to(ROOT))]
    inputs += [
        f"{lesson.name}/requirements.txt"
        for lesson in CATALOGUE
        if (lesson.path / "requirements.txt").is_file()
    ]
    cmd = [
        uv,
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--python-version",
        "3.11",
        "--no-annotate",
        "--custom-compile-command",
        "python lessons.py lock",
        "--output-file",
        CONSTRAINTS.name,
        *inputs,
    ]
    code = subprocess.run(cmd, cwd=ROOT, check=False).returncode
    if code == 0:
        # pip refuses extras in a constraints file ("sqlalchemy[asyncio]==..."): keep the pin only.
        lines = CONSTRAINTS.read_text(encoding="utf-8").splitlines()
        CONSTRAINTS.write_text(
            "\n".join(re.sub(r"^([A-Za-z0-9_.-]+)\[[^\]]*\]", r"\1", ln) for ln in lines) + "\n",
            encoding="utf-8",
        )
        print(f"wrote {CONSTRAINTS.name} from {len(inputs)} requirement files")
    return code


# --------------------------------------------------------------------------- main


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its whole usage before an error; one line says more here."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (python lessons.py --help)")


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="lessons.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    sub.add_parser("list", help="lessons with status and services")
    run = sub.add_parser("run", help="venv + install + python main.py ARGS")
    run.add_argument("lesson", nargs="?")
    run.add_argument("args", nargs=argparse.REMAINDER)
    test = sub.add_parser("test", help="pytest per lesson; pytest options go after --")
    test.add_argument("lessons", nargs="*")
    bench = sub.add_parser("bench", help="bench.py per lesson")
    bench.add_argument("lessons", nargs="*")
    bench.add_argument("--quick", action="store_true", help="small sizes, seconds per lesson")
    bench.add_argument("--all", action="store_true", dest="every", help="every ready lesson")
    sub.add_parser("doctor", help="which services answer")
    check = sub.add_parser("check", help="every lesson has the guide's anatomy")
    check.add_argument("lessons", nargs="*")
    sub.add_parser("lock", help="regenerate constraints.txt (needs uv)")

    extra: list[str] = []
    if "--" in argv:
        argv, extra = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    try:
        args = parser.parse_args(argv)
        if args.command == "list":
            return cmd_list()
        if args.command == "run":
            if args.lesson is None:
                ready = ", ".join(lesson.number for lesson in CATALOGUE if lesson.ready)
                raise UsageError(
                    f"run needs a lesson: python lessons.py run 03 [args]; ready: {ready}"
                )
            return run_script(resolve_ready([args.lesson])[0], "main.py", args.args + extra)
        if args.command == "test":
            return cmd_test(args.lessons, extra)
        if args.command == "bench":
            return cmd_bench(args.lessons, args.quick, args.every)
        if args.command == "doctor":
            return cmd_doctor()
        if args.command == "check":
            return cmd_check(resolve_ready(args.lessons))
        return cmd_lock()
    except UsageError as exc:
        print(f"lessons.py: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lessons.py list | head`: the reader left, nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
