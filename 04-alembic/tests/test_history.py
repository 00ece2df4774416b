"""The shape of the two histories, read from the scripts alone (no database)."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from demo.walk import offline_sql
from evolve.runner import Section, make_config

# Offline mode never connects: any well-formed URL picks the SQL dialect.
PG_OFFLINE = "postgresql+psycopg://postgres@localhost:5432/not_used"


def _script(section: Section = "alembic") -> ScriptDirectory:
    return ScriptDirectory.from_config(make_config("sqlite://", section))


def test_app_history_has_a_single_head() -> None:
    # Two heads make `alembic upgrade head` fail: a merge revision must join them.
    assert _script().get_heads() == ["0007"]


def test_audit_history_has_a_single_head_of_its_own() -> None:
    assert _script("audit").get_heads() == ["a002"]


def test_the_two_branches_are_merged() -> None:
    script = _script()
    assert script.get_revision("0003").is_branch_point
    merge = script.get_revision("0006")
    assert merge.is_merge_point
    assert merge.down_revision == ("0004", "0005")


def test_file_names_start_with_their_revision_id() -> None:
    sections: tuple[Section, ...] = ("alembic", "audit")
    for section in sections:
        for revision in _script(section).walk_revisions():
            assert Path(revision.path).name.startswith(f"{revision.revision}_")


def test_the_histories_share_no_revision_id() -> None:
    app = {revision.revision for revision in _script().walk_revisions()}
    audit = {revision.revision for revision in _script("audit").walk_revisions()}
    assert len(app) == 7
    assert app.isdisjoint(audit)


def test_the_concurrent_index_is_built_outside_a_transaction() -> None:
    sql = offline_sql(PG_OFFLINE, "0006:0007")
    create = sql.index("CREATE INDEX CONCURRENTLY ix_members_last_login_at")
    # The statement before it must close the transaction, the one after it open a new one.
    assert sql.rindex("COMMIT;", 0, create) > sql.rindex("BEGIN;", 0, create)
    assert "BEGIN;" in sql[create:]


def test_offline_data_migration_is_one_set_based_update() -> None:
    sql = offline_sql(PG_OFFLINE, "0003:0004")
    assert sql.count("UPDATE members SET first_name=") == 1
    assert "strpos(members.full_name, ' ')" in sql
