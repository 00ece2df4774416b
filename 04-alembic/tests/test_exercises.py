"""Tests for the README's exercises. Deselected by default: run them with `pytest -m exercise`.

They fail until the exercise is done, and pass once it is.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from evolve.runner import make_config, make_engine

pytestmark = pytest.mark.exercise


def test_exercise_1_rename_keeps_the_team_names(database_url: str) -> None:
    config, engine = make_config(database_url), make_engine(database_url)
    command.upgrade(config, "0007")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO teams (name) VALUES ('Platform')"))
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM teams")).scalar_one() == "Platform"
    command.check(config)


def test_exercise_2_email_lower_is_filled_and_not_null(database_url: str) -> None:
    config, engine = make_config(database_url), make_engine(database_url)
    command.upgrade(config, "0007")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO members (first_name, email) VALUES ('Ada', 'Ada@Example.TEST')")
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        lower = connection.execute(text("SELECT email_lower FROM members")).scalar_one()
    assert lower == "ada@example.test"
    columns = {c["name"]: c for c in inspect(engine).get_columns("members")}
    assert columns["email_lower"]["nullable"] is False
    command.check(config)
