"""The body of both env.py files: the app history and the audit history run the same way.

Alembic imports env.py for every command. It decides three things: which database
(the URL), what the models look like (target_metadata, for autogenerate and
`alembic check`), and how each migration is wrapped in a transaction.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.config import Config
from alembic.util import CommandError
from pydantic import ValidationError
from sqlalchemy import MetaData, create_engine, pool
from sqlalchemy.engine import Connection

from evolve.diagnose import probe
from evolve.settings import Settings, ensure_var_dir


def database_url(config: Config, setting: str) -> str:
    # Code that drives Alembic (main.py, the tests) passes the URL as an attribute;
    # the `alembic` command line falls back to DATABASE_URL / AUDIT_DATABASE_URL.
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    try:
        return str(getattr(Settings(), setting))
    except ValidationError as exc:
        # CommandError is what the alembic CLI prints as one "FAILED: ..." line (exit 1);
        # anything else would reach the learner as a traceback.
        error = exc.errors()[0]
        raise CommandError(f"bad setting {error['loc'][0]}: {error['msg']}") from None


def _options(metadata: MetaData, dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        # Without compare_type, autogenerate ignores VARCHAR(100) -> VARCHAR(200).
        "compare_type": True,
        "compare_server_default": True,
        # SQLite cannot ALTER a column or add a constraint: autogenerate should
        # write `with op.batch_alter_table(...)`, which rebuilds the table instead.
        "render_as_batch": dialect_name == "sqlite",
        # One transaction per revision: a failure in revision 5 leaves 1-4 applied and
        # recorded, and a revision may leave its transaction (CREATE INDEX CONCURRENTLY).
        "transaction_per_migration": True,
    }


def _run_online(url: str, metadata: MetaData) -> None:
    ensure_var_dir(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    # A real query first: a stopped server, a refused login or a SQLite file that is not
    # a database becomes one line here instead of a traceback from inside a migration.
    problem = probe(engine)
    if problem:
        raise CommandError(problem)
    with engine.connect() as connection:
        _set_lock_timeout(connection)
        context.configure(connection=connection, **_options(metadata, engine.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def _set_lock_timeout(connection: Connection) -> None:
    # A migration waiting for a lock on a busy table also makes every later query on that
    # table wait behind it. Give up after a few seconds instead, and retry at a calmer time.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET lock_timeout = '5s'")
        connection.commit()


def _run_offline(url: str, metadata: MetaData) -> None:
    # `alembic upgrade A:B --sql` writes the SQL instead of running it, for a DBA to review.
    dialect_name = url.split(":", 1)[0].split("+", 1)[0]
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(metadata, dialect_name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run(metadata: MetaData, setting: str) -> None:
    """Run the current Alembic command against one database (`setting` names its URL)."""
    config = context.config
    # The command line gets alembic.ini's logging; callers with their own logging opt out.
    if config.config_file_name and config.attributes.get("configure_logging", True):
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = database_url(config, setting)
    if context.is_offline_mode():
        _run_offline(url, metadata)
    else:
        _run_online(url, metadata)
