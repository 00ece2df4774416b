"""Drive Alembic from Python: the same commands as the CLI, on a URL chosen by the caller."""

from __future__ import annotations

import sys
from argparse import Namespace
from typing import Literal, TextIO

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Engine, create_engine, pool

from evolve.settings import LESSON_DIR

ALEMBIC_INI = LESSON_DIR / "alembic.ini"
# The two sections of alembic.ini: `alembic ...` and `alembic -n audit ...`.
Section = Literal["alembic", "audit"]


def make_config(
    url: str,
    section: Section = "alembic",
    *,
    output: TextIO | None = None,
    x_args: list[str] | None = None,
) -> Config:
    """A Config as the CLI would build it, plus the URL to migrate.

    `output` collects what `--sql` (offline mode) writes; `x_args` are the CLI's
    `-x key=value` pairs, read by revisions through context.get_x_argument().
    """
    config = Config(
        ALEMBIC_INI,
        ini_section=section,
        output_buffer=output,
        stdout=output or sys.stdout,
        cmd_opts=Namespace(x=x_args or []),
    )
    # env.py prefers this over DATABASE_URL; an attribute needs no %-escaping, unlike
    # set_main_option (configparser would read the % in an encoded password).
    config.attributes["database_url"] = url
    # Leave the caller's logging alone instead of loading alembic.ini's.
    config.attributes["configure_logging"] = False
    return config


def upgrade_order(config: Config) -> list[Script]:
    """Every revision, base first, in an order that applies parents before children."""
    script = ScriptDirectory.from_config(config)
    return list(reversed(list(script.walk_revisions())))


def heads(config: Config) -> tuple[str, ...]:
    """The head revisions of the history (one, unless a branch is not merged yet)."""
    return tuple(ScriptDirectory.from_config(config).get_heads())


def make_engine(url: str) -> Engine:
    # NullPool: a short-lived tool should not keep connections open between steps.
    connect_args = {"connect_timeout": 3} if url.startswith("postgresql") else {}
    return create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """What alembic_version says: one row per applied head, none at base."""
    with engine.connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
