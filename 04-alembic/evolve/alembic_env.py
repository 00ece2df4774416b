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
from evolve.settings import Settings, ensure_var_dir, setting_error


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
        raise CommandError(setting_error(exc)) from None


# The -x options this history's revisions read (0004: batch_size), and what each accepts.
# They are checked before the first revision runs: a bad value found half-way would stop an
# upgrade with some of its DDL applied, and SQLite cannot roll DDL back.
X_ARGUMENTS = {"batch_size": "a whole number of rows, at least 1"}


def check_x_arguments() -> None:
    given = context.get_x_argument(as_dictionary=True)
    unknown = sorted(set(given) - set(X_ARGUMENTS))
    if unknown:
        known = ", ".join(X_ARGUMENTS)
        raise CommandError(f"unknown -x option {unknown[0]!r}: the revisions read {known}")
    size = given.get("batch_size")
    if size is not None and not (size.isascii() and size.isdigit() and int(size) >= 1):
        raise CommandError(f"-x batch_size={size} is not {X_ARGUMENTS['batch_size']}")


def _options(metadata: MetaData, dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        # compare_type (VARCHAR(100) -> VARCHAR(200)) is on by default since Alembic 1.12.
        # Server defaults are not: the database hands them back in its own spelling
        # ('active'::character varying, CURRENT_TIMESTAMP), so comparing them can report
        # changes that are not there. The models here declare two (status 'active',
        # created_at now()) that a hand-made change must not drift from, so it is on.
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
    check_x_arguments()
    if context.is_offline_mode():
        _run_offline(url, metadata)
    else:
        _run_online(url, metadata)
