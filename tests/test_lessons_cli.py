"""lessons.py: naming, the summary of a pytest run, install stamps, probes and the anatomy check."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import lessons

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "lessons.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


# ---------------------------------------------------------------- naming


@pytest.mark.parametrize("name", ["03", "03-async-python", "03-as"])
def test_a_lesson_is_named_by_number_full_name_or_unique_prefix(name: str) -> None:
    assert lessons.resolve(name).name == "03-async-python"


@pytest.mark.parametrize(("name", "why"), [("0", "matches several"), ("99", "is not a lesson")])
def test_an_unknown_or_ambiguous_name_lists_the_valid_ones(name: str, why: str) -> None:
    with pytest.raises(lessons.UsageError, match=why) as caught:
        lessons.resolve(name)
    assert "03-async-python" in str(caught.value)


def test_cli_answers_a_bad_name_with_one_line_and_exit_2() -> None:
    result = cli("test", "nonsense")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "valid names" in result.stderr


def test_a_planned_lesson_cannot_be_run() -> None:
    planned = next(lesson for lesson in lessons.CATALOGUE if not lesson.ready)

    result = cli("run", planned.number)

    assert result.returncode == 2 and "planned" in result.stderr
    assert "03-async-python" in result.stderr  # and the ready ones are named


def test_list_shows_all_twenty_lessons_with_their_status() -> None:
    rows = [line for line in cli("list").stdout.splitlines() if line[:2].isdigit()]

    assert len(rows) == 20
    for row, lesson in zip(rows, lessons.CATALOGUE, strict=True):
        assert row.startswith(lesson.name)
        assert ("ready" if lesson.ready else "planned") in row


def test_the_repository_passes_its_own_check() -> None:
    result = cli("check")

    assert result.returncode == 0, result.stdout


# ---------------------------------------------------------------- test summary


@pytest.fixture
def fake_lesson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lesson folder whose "venv" is this interpreter, so no install happens."""
    monkeypatch.setattr(lessons, "ensure_venv", lambda folder, requirements: Path(sys.executable))
    (tmp_path / "requirements.txt").write_text("pytest\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return tmp_path


def test_run_pytest_counts_passed_failed_and_skipped(fake_lesson: Path) -> None:
    (fake_lesson / "test_mixed.py").write_text(
        "import pytest\n"
        "def test_ok(): assert True\n"
        "def test_also_ok(): assert 1 + 1 == 2\n"
        "def test_broken(): assert False\n"
        "@pytest.mark.skipif(True, reason='demo')\n"
        "def test_skipped(): pass\n"
    )

    outcome = lessons.run_pytest("fake", fake_lesson, fake_lesson / "requirements.txt", ["-q"])

    assert (outcome.passed, outcome.failed, outcome.skipped) == (2, 1, 1)
    assert not outcome.ok


def test_a_lesson_without_tests_fails(fake_lesson: Path) -> None:
    outcome = lessons.run_pytest("empty", fake_lesson, fake_lesson / "requirements.txt", ["-q"])

    assert outcome.note == "no tests ran" and not outcome.ok


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_skips_fail_the_run_when_asked(
    fake_lesson: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    (fake_lesson / "test_skip.py").write_text(
        "import pytest\n@pytest.mark.skipif(True, reason='no service')\ndef test_x(): pass\n"
    )
    monkeypatch.setenv("LESSONS_FAIL_ON_SKIP", value)

    outcome = lessons.run_pytest("skips", fake_lesson, fake_lesson / "requirements.txt", ["-q"])

    assert outcome.skipped == 1 and not outcome.ok


def test_skips_are_reported_but_allowed_by_default(
    fake_lesson: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fake_lesson / "test_skip.py").write_text(
        "import pytest\n@pytest.mark.skipif(True, reason='no service')\ndef test_x(): pass\n"
    )
    monkeypatch.delenv("LESSONS_FAIL_ON_SKIP", raising=False)

    outcome = lessons.run_pytest("skips", fake_lesson, fake_lesson / "requirements.txt", ["-q"])

    assert outcome.skipped == 1 and outcome.ok


def test_an_unreadable_fail_on_skip_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LESSONS_FAIL_ON_SKIP", "maybe")

    with pytest.raises(lessons.UsageError, match="LESSONS_FAIL_ON_SKIP"):
        lessons.fail_on_skip()


@pytest.mark.parametrize(
    ("extra", "note"),
    [
        (["--collect-only"], "no tests ran"),  # exit 0 with nothing executed
        (["--junitxml=elsewhere.xml"], "no test report"),  # our report replaced: nothing counted
    ],
)
def test_a_run_that_counted_nothing_is_not_green(
    fake_lesson: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str], note: str
) -> None:
    monkeypatch.setenv("LESSONS_FAIL_ON_SKIP", "1")
    (fake_lesson / "test_skip.py").write_text(
        "import pytest\n@pytest.mark.skipif(True, reason='no service')\ndef test_x(): pass\n"
    )

    outcome = lessons.run_pytest("x", fake_lesson, fake_lesson / "requirements.txt", ["-q", *extra])

    assert note in outcome.note and not outcome.ok


# ---------------------------------------------------------------- install stamp


def test_venv_is_reinstalled_only_when_requirements_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(lessons, "run_checked", calls.append)
    python = lessons.venv_python(tmp_path)
    python.parent.mkdir(parents=True)
    python.write_text("")  # the venv "exists"
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("httpx>=0.27,<1\n")

    lessons.ensure_venv(tmp_path, requirements)
    installs_after_first = len(calls)
    lessons.ensure_venv(tmp_path, requirements)
    unchanged = len(calls)
    requirements.write_text("httpx>=0.27,<1\nrich>=13,<16\n")
    lessons.ensure_venv(tmp_path, requirements)

    assert installs_after_first >= 1
    assert unchanged == installs_after_first
    assert len(calls) > unchanged
    assert any("-r" in call for call in calls)


# ---------------------------------------------------------------- doctor probes


@pytest.fixture
def tiny_server() -> Iterator[callable]:
    """Start a one-shot TCP server that answers any first packet with a fixed reply."""
    servers: list[socket.socket] = []

    def start(reply: bytes) -> int:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(64)
                conn.sendall(reply)

        threading.Thread(target=answer, daemon=True).start()
        return server.getsockname()[1]

    yield start
    for server in servers:
        server.close()


def service(name: str) -> lessons.Service:
    return next(s for s in lessons.SERVICES if s.name == name)


def test_probe_recognises_a_redis_by_its_pong(tiny_server) -> None:
    port = tiny_server(b"+PONG\r\n")

    assert lessons.probe(service("redis"), f"redis://127.0.0.1:{port}/0") is None


def test_probe_tells_a_wrong_server_from_the_right_one(tiny_server) -> None:
    port = tiny_server(b"HTTP/1.1 400 Bad Request\r\n")

    assert "unexpected reply" in lessons.probe(service("redis"), f"redis://127.0.0.1:{port}/0")


def test_probe_accepts_postgres_answer_to_ssl_request(tiny_server) -> None:
    port = tiny_server(b"N")

    assert lessons.probe(service("postgres"), f"postgresql://u@127.0.0.1:{port}/db") is None


def test_probe_reports_a_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused

        assert lessons.probe(service("redis"), f"redis://127.0.0.1:{port}/0") is not None


# ---------------------------------------------------------------- arguments


def test_a_single_digit_names_the_lesson_with_that_number() -> None:
    assert lessons.resolve("3").name == "03-async-python"


def test_run_without_a_lesson_says_which_to_name_in_one_line() -> None:
    result = cli("run")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "run needs a lesson" in result.stderr
    assert "03" in result.stderr and "required" not in result.stderr


def test_bench_without_a_lesson_asks_for_one_instead_of_starting_every_bench() -> None:
    result = cli("bench", "--quick")

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "--all" in result.stderr


def test_a_bad_argument_is_one_line_not_a_usage_dump() -> None:
    result = cli("bench", "03", "--bogus")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--bogus" in result.stderr
