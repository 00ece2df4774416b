"""--sql-range: a bad range exits 2 before anything is migrated, a good one prints the SQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import main
from evolve.inspect_schema import snapshot
from evolve.runner import make_engine


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
