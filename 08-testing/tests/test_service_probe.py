"""The suite's own safety net: a missing service skips with a hint, or fails when required.

CI sets LESSONS_REQUIRE_SERVICES so that a PostgreSQL test can never pass by being skipped.
These tests run pytest on one PostgreSQL test against a port where nothing listens, once
without and once with the variable, and read the outcome.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LESSON = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOWHERE = "postgresql+psycopg://postgres:secret@127.0.0.1:1/lessons"
HINT = (
    "PostgreSQL not reachable at postgresql+psycopg://postgres:***@127.0.0.1:1/lessons"
    " - run: docker compose up -d postgres"
)


def run_postgres_test(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "LESSONS_REQUIRE_SERVICES"}
    environment.update(DATABASE_URL=NOWHERE, **env)
    test = "tests/integration/test_repository.py::test_products_round_trip_sorted_by_sku[postgres]"
    command = [sys.executable, "-m", "pytest", test, "-rsE", "--no-cov", "-p", "no:randomly"]
    command += ["-p", "no:cacheprovider"]
    return subprocess.run(
        command, cwd=LESSON, env=environment, capture_output=True, text=True, timeout=120
    )


def test_an_unreachable_postgres_skips_with_the_command_that_starts_it() -> None:
    done = run_postgres_test()
    assert done.returncode == 0
    assert "1 skipped" in done.stdout
    assert HINT in done.stdout
    assert "secret" not in done.stdout


def test_a_required_postgres_turns_the_skip_into_a_failure() -> None:
    done = run_postgres_test(LESSONS_REQUIRE_SERVICES="redis,postgres")
    assert done.returncode == 1
    assert "1 error" in done.stdout and "skipped" not in done.stdout
    assert HINT in done.stdout


@pytest.mark.parametrize(
    ("wanted", "required"),
    [("redis,postgres", True), ("all", True), (" postgres ", True), ("redis", False), ("", False)],
)
def test_which_values_require_postgres(
    wanted: str, required: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rule without starting pytest again: 'all' or a list naming the service."""
    from tests.conftest import required as is_required

    monkeypatch.setenv("LESSONS_REQUIRE_SERVICES", wanted)
    assert is_required("postgres") is required
