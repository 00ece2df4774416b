"""A database that cannot be reached or used is one line on stderr that names the fix."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text

import bench
import main
from evolve.settings import LESSON_DIR

# Port 1 on this machine: nothing listens there, the refusal is immediate.
CLOSED_PORT = "postgresql+psycopg://postgres:secret@127.0.0.1:1/x"


def _unusable(case: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str]:
    """(the URL, what the line main.py prints for it must say)."""
    if case == "nothing listens":
        return (
            CLOSED_PORT,
            "PostgreSQL not reachable at postgresql+psycopg://postgres:***@127.0.0.1:1/x",
        )
    if case == "no such folder":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'app.db'}"
        return url, f"cannot open SQLite database at {url} - check that its folder exists"
    if case == "not a database":
        # SQLite opens lazily: connecting to a text file succeeds, only a real read fails.
        notes = tmp_path / "notes.txt"
        notes.write_text("not a database, just some notes\n" * 100)
        url = f"sqlite:///{notes}"
        return url, f"SQLite database at {url} cannot be used: file is not a database"
    server: URL = request.getfixturevalue("postgres_server")
    if case == "no such database":
        # The server answers, the database does not exist: "start postgres" would be wrong advice.
        name = f"test_04_alembic_missing_{uuid.uuid4().hex[:12]}"
        url = server.set(database=name).render_as_string(hide_password=False)
        return url, f"PostgreSQL database '{name}' does not exist at "
    # PostgreSQL says 'role "x" does not exist', the same words as a missing database,
    # but the fix is the user in the URL, not createdb.
    user = f"no_such_role_04_{uuid.uuid4().hex[:8]}"
    url = server.set(username=user, password="secret").render_as_string(hide_password=False)
    return url, f"refused the login for user '{user}'"


@pytest.mark.parametrize(
    ("case", "fix"),
    [
        ("nothing listens", "- run: docker compose up -d postgres"),
        ("no such folder", "check that its folder exists"),
        ("not a database", "file is not a database"),
        pytest.param("no such database", "createdb -U postgres", marks=pytest.mark.postgres),
        pytest.param("unknown user", "check the user and password", marks=pytest.mark.postgres),
    ],
)
def test_main_says_which_fix_applies_in_one_line(
    case: str,
    fix: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, says = _unusable(case, tmp_path, request)
    with pytest.raises(SystemExit) as exited:
        main.main(["--database-url", url])
    assert exited.value.code == 1
    [line] = capsys.readouterr().err.splitlines()  # one line, no traceback
    assert says in line and fix in line
    assert "secret" not in line


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("postgresql+psycopg2://u:secret@127.0.0.1:1/x", "driver 'psycopg2'"),
        (CLOSED_PORT, "not reachable at"),
    ],
)
def test_plain_alembic_with_a_bad_database_url_fails_in_one_line(value: str, message: str) -> None:
    # `python -m alembic` is the `alembic` script: alembic.ini from the current directory.
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=LESSON_DIR,
        env={**os.environ, "DATABASE_URL": value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    # Alembic's own shape for a failed command: the error logged on stderr, FAILED on stdout.
    [line] = done.stderr.splitlines()
    assert message in line
    assert done.stdout.startswith("FAILED: ") and message in done.stdout
    assert "secret" not in done.stderr + done.stdout


@pytest.fixture
def role_without_createdb(postgres_server: URL) -> Iterator[str]:
    """A login role that may not create databases, dropped after the test."""
    role = f"bench_04_nocreate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN NOCREATEDB'))
    try:
        yield role
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (CLOSED_PORT, "PostgreSQL not reachable at"),
        pytest.param("no createdb", "refused CREATE DATABASE", marks=pytest.mark.postgres),
    ],
)
def test_bench_says_why_it_could_not_make_its_database(
    server: str,
    expected: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if server == "no createdb":
        pg: URL = request.getfixturevalue("postgres_server")
        role = request.getfixturevalue("role_without_createdb")
        server = pg.set(username=role, password=None).render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", server)
    with pytest.raises(SystemExit) as exited:
        bench.main(["--quick"])
    assert exited.value.code == 1
    [line] = capsys.readouterr().err.splitlines()
    assert expected in line and "secret" not in line
