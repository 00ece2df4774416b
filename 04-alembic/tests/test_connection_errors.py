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


def _stderr_of_exit_1(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Run main.py with argv, insist it exits with status 1, and return its stderr lines."""
    with pytest.raises(SystemExit) as exited:
        main.main(argv)
    assert exited.value.code == 1
    return capsys.readouterr().err.splitlines()


def test_unreachable_postgres_is_one_line_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 1 on this machine: nothing listens there, the refusal is immediate.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres:secret@127.0.0.1:1/x")
    assert _stderr_of_exit_1([], capsys) == [
        "PostgreSQL not reachable at postgresql+psycopg://postgres:***@127.0.0.1:1/x"
        " - run: docker compose up -d postgres"
    ]


def test_unopenable_sqlite_file_is_one_line_without_a_docker_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'app.db'}"
    assert _stderr_of_exit_1(["--database-url", url], capsys) == [
        f"cannot open SQLite database at {url} - check that its folder exists"
    ]


def test_sqlite_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite opens lazily: connecting to a text file succeeds, only a real read fails.
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database, just some notes\n" * 100)
    url = f"sqlite:///{text_file}"
    assert _stderr_of_exit_1(["--database-url", url], capsys) == [
        f"SQLite database at {url} cannot be used: file is not a database"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("postgresql+psycopg2://u:secret@127.0.0.1:1/x", "driver 'psycopg2'"),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/x", "not reachable at"),
        ("not a database", "cannot be used: file is not a database"),
    ],
)
def test_plain_alembic_with_a_bad_database_url_fails_in_one_line(
    value: str, message: str, tmp_path: Path
) -> None:
    if value == "not a database":
        text_file = tmp_path / "notes.txt"
        text_file.write_text("just some notes\n" * 100)
        value = f"sqlite:///{text_file}"
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


@pytest.mark.postgres
def test_missing_postgres_database_says_how_to_create_it(
    postgres_server: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server answers, the database does not exist: "start postgres" would be wrong advice.
    name = f"test_04_alembic_missing_{uuid.uuid4().hex[:12]}"
    url = postgres_server.set(database=name).render_as_string(hide_password=False)
    [line] = _stderr_of_exit_1(["--database-url", url], capsys)
    assert line.startswith(f"PostgreSQL database '{name}' does not exist at ")
    assert line.endswith(f"- run: docker compose exec postgres createdb -U postgres {name}")


@pytest.mark.postgres
def test_unknown_postgres_user_is_a_refused_login_not_a_missing_database(
    postgres_server: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    # PostgreSQL says 'role "x" does not exist': the same words as a missing database,
    # but the fix is the user in the URL, not createdb.
    user = f"no_such_role_04_{uuid.uuid4().hex[:8]}"
    url = postgres_server.set(username=user, password="secret")
    [line] = _stderr_of_exit_1(
        ["--database-url", url.render_as_string(hide_password=False)], capsys
    )
    assert f"refused the login for user '{user}'" in line
    assert "createdb" not in line and "docker compose up" not in line
    assert "secret" not in line


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
        # Port 1: nothing listens there, the refusal is immediate.
        ("postgresql+psycopg://postgres:secret@127.0.0.1:1/x", "PostgreSQL not reachable at"),
        pytest.param("unknown user", "refused the login for user", marks=pytest.mark.postgres),
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
    if server == "unknown user":
        pg: URL = request.getfixturevalue("postgres_server")
        server = pg.set(username=f"no_such_role_04_{uuid.uuid4().hex[:8]}").render_as_string(
            hide_password=False
        )
    elif server == "no createdb":
        pg = request.getfixturevalue("postgres_server")
        role = request.getfixturevalue("role_without_createdb")
        server = pg.set(username=role, password=None).render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", server)
    with pytest.raises(SystemExit) as exited:
        bench.main(["--quick"])
    assert exited.value.code == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert expected in err[0]
    assert "secret" not in err[0]
