"""Bad arguments and settings exit 2 in one line; relative SQLite paths stay in the lesson."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import bench
import main
from evolve.runner import current_revisions, make_engine
from evolve.settings import LESSON_DIR


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--database-url", "not a url"], {}, "not a database URL"),
        ([], {"DATABASE_URL": "nonsense"}, "bad setting database_url"),
        # A driver that is not installed is named, before anything tries to connect.
        ([], {"DATABASE_URL": "postgresql+psycopg2://u:secret@h/db"}, "driver 'psycopg2'"),
        ([], {"DATABASE_URL": "mysql://root@localhost/db"}, "driver 'mysqldb' (mysql://)"),
        ([], {"DATABASE_URL": "postgresql+asyncpg://u@h/db"}, "postgresql+asyncpg"),
        (["--database-url", "sqlite://"], {}, "in-memory SQLite database"),
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
    assert "secret" not in err[0]


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--rows", "many"], "error: argument --rows: invalid int value: 'many'"),
        # 0 is not "use the default": it is a mistake, and the user should hear of it.
        (["--rows", "0"], "error: --rows must be at least 100 and --repeats at least 1"),
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
