"""main.py and the plain `alembic` command walk the whole history and end at head."""

from __future__ import annotations

from collections.abc import Callable

import alembic.config
import pytest

import main
from evolve.runner import current_revisions, make_engine
from evolve.settings import LESSON_DIR


def test_main_walks_the_history_and_ends_at_head(
    new_database: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", new_database())
    monkeypatch.setenv("AUDIT_DATABASE_URL", new_database())
    monkeypatch.setenv("COLUMNS", "120")  # rich's width: no line of the walk is cut
    assert main.main([]) == 0
    out = capsys.readouterr().out
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

    # A second run begins from the head the first left.
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
