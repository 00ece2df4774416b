"""main.py and the plain `alembic` command, run the way a learner runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import alembic.config
import pytest
from sqlalchemy import URL, create_engine, text

import bench
import main
from evolve.inspect_schema import snapshot
from evolve.runner import current_revisions, make_engine
from evolve.settings import LESSON_DIR


def test_main_walks_the_history_and_ends_at_head(
    new_database: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"DATABASE_URL": new_database(), "AUDIT_DATABASE_URL": new_database()}
    # A real process, as `python main.py` runs: exit code and everything it printed.
    done = subprocess.run(
        [sys.executable, "main.py"],
        cwd=LESSON_DIR,
        env={**os.environ, "COLUMNS": "120", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for step in ("upgrade 0001", "upgrade 0004", "upgrade 0007", "downgrade -1", "downgrade base"):
        assert step in out
    assert "alembic_version: 0004, 0005" in out  # two heads applied, before the merge
    assert "('Jean', 'Claude Van Damme')" in out
    assert "names through split and join: all unchanged" in out
    # Relative upgrade from base: two revisions, the members table with its status column.
    after_plus_two = out[out.index("upgrade +2") :]
    assert after_plus_two.splitlines()[1].strip() == "alembic_version: 0002"
    assert "upgrade head -> 0007" in out
    assert "audit head: a002" in out
    assert "ALTER TABLE members ADD COLUMN status" in out

    # A second run (in this process, to save a start-up) begins from the head the first left.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main.main([]) == 0
    assert "database was at 0007" in capsys.readouterr().out


def test_alembic_cli_round_trip_and_check(
    new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # alembic.config.main is what the `alembic` script calls: alembic.ini from the current
    # directory, and env.py takes the URLs from the environment, not from main.py.
    app_url, audit_url = new_database(), new_database()
    monkeypatch.chdir(LESSON_DIR)
    monkeypatch.setenv("DATABASE_URL", app_url)
    monkeypatch.setenv("AUDIT_DATABASE_URL", audit_url)
    for argv in (
        ["upgrade", "head"],
        ["downgrade", "base"],
        ["upgrade", "head"],
        ["check"],  # raises if the models and the migrated schema differ
        ["-n", "audit", "upgrade", "head"],
        ["-n", "audit", "check"],
    ):
        # --raiseerr: a failing command raises its error here instead of exiting.
        alembic.config.main(argv=["--raiseerr", *argv], prog="alembic")
    assert current_revisions(make_engine(app_url)) == ("0007",)
    assert current_revisions(make_engine(audit_url)) == ("a002",)


def test_unreachable_postgres_is_one_line_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 1 on this machine: nothing listens there, the refusal is immediate.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres:secret@127.0.0.1:1/x")
    with pytest.raises(SystemExit) as exited:
        main.main([])
    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        "PostgreSQL not reachable at postgresql+psycopg://postgres:***@127.0.0.1:1/x"
        " - run: docker compose up -d postgres"
    ]


def test_unopenable_sqlite_file_is_one_line_without_a_docker_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'app.db'}"
    with pytest.raises(SystemExit) as exited:
        main.main(["--database-url", url])
    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"cannot open SQLite database at {url} - check that its folder exists"
    ]


def test_sqlite_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite opens lazily: connecting to a text file succeeds, only a real read fails.
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database, just some notes\n" * 100)
    url = f"sqlite:///{text_file}"
    with pytest.raises(SystemExit) as exited:
        main.main(["--database-url", url])
    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"SQLite database at {url} cannot be used: file is not a database"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nonsense", "bad setting database_url"),
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


def test_relative_sqlite_paths_are_inside_the_lesson_folder_wherever_alembic_starts(
    tmp_path: Path,
) -> None:
    # .env.example's AUDIT_DATABASE_URL=sqlite:///var/audit.db, with alembic started from
    # another folder (-c names the ini): the file must land in the lesson's var/, as the
    # default var/app.db does.
    name = f"test_audit_{uuid.uuid4().hex[:12]}.db"
    in_lesson = LESSON_DIR / "var" / name
    try:
        done = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(LESSON_DIR / "alembic.ini")]
            + ["-n", "audit", "upgrade", "head"],
            cwd=tmp_path,
            env={**os.environ, "AUDIT_DATABASE_URL": f"sqlite:///var/{name}"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert current_revisions(make_engine(f"sqlite:///{in_lesson}")) == ("a002",)
        assert not (tmp_path / "var").exists()
    finally:
        in_lesson.unlink(missing_ok=True)


@pytest.mark.postgres
def test_missing_postgres_database_says_how_to_create_it(
    postgres_server: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server answers, the database does not exist: "start postgres" would be wrong advice.
    name = f"test_04_alembic_missing_{uuid.uuid4().hex[:12]}"
    url = postgres_server.set(database=name).render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exited:
        main.main(["--database-url", url])
    assert exited.value.code == 1
    [line] = capsys.readouterr().err.splitlines()
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
    with pytest.raises(SystemExit) as exited:
        main.main(["--database-url", url.render_as_string(hide_password=False)])
    assert exited.value.code == 1
    [line] = capsys.readouterr().err.splitlines()
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


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--sql-range", "0001:9999"], {}, "--sql-range wants FROM:TO of known revisions"),
        (["--database-url", "not a url"], {}, "not a database URL"),
        ([], {"DATABASE_URL": "nonsense"}, "bad setting database_url"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    argv: list[str],
    env: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code: int | str | None
    try:
        code = main.main(argv)
    except SystemExit as exited:  # argparse's own exit for a bad option
        code = exited.code
    assert code == 2
    err = capsys.readouterr().err.splitlines()
    # One line that says what was wrong: no usage block, no traceback.
    assert len(err) == 1, err
    assert message in err[0]


@pytest.mark.parametrize(
    ("sql_range", "message"),
    [
        ("0001:9999", "wants FROM:TO of known revisions"),
        ("0002:0001", "is not an upgrade: 0002 is not an ancestor of 0001"),
        ("0004:0005", "is not an upgrade"),  # two branches: neither is below the other
        ("0002:0002", "FROM and TO are the same revision"),
        # SQLite's batch mode (0003-0005) reads the live table, so --sql cannot render it.
        ("0003:0004", "cannot be written offline for sqlite: a revision in it uses batch mode"),
    ],
)
def test_bad_sql_range_exits_2_before_anything_is_migrated(
    sql_range: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with pytest.raises(SystemExit) as exited:
        main.main(["--database-url", url, "--sql-range", sql_range])
    assert exited.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert message in err[0]
    assert snapshot(make_engine(url)) == {}  # no table, not even alembic_version


@pytest.mark.postgres
def test_sql_range_through_batch_mode_renders_for_postgresql(
    make_pg_database: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    # On PostgreSQL batch_alter_table is a plain ALTER TABLE: nothing to reflect, --sql works.
    url = make_pg_database()
    assert main.main(["--database-url", url, "--sql-range", "0003:0005"]) == 0
    assert "ADD CONSTRAINT ck_members_status_allowed CHECK" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--rows", "many"], "error: argument --rows: invalid int value: 'many'"),
        (["--rows", "5"], "error: --rows must be at least 100 and --repeats at least 1"),
        # 0 is not "use the default": it is a mistake, and the user should hear of it.
        (["--rows", "0"], "error: --rows must be at least 100 and --repeats at least 1"),
        (["--repeats", "0"], "error: --rows must be at least 100 and --repeats at least 1"),
    ],
)
def test_bench_bad_argument_is_one_line_and_exit_2(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rejected before the bench looks for PostgreSQL, so this needs no server.
    with pytest.raises(SystemExit) as exited:
        bench.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].endswith(line)
