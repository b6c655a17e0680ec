"""Database migrations without an ``alembic.ini``: the configuration is built here, so migrations run from an
installed wheel (``vroegsignaal db upgrade``) as well as from a checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from vroegsignaal.errors import ConfigError
from vroegsignaal.service.advisory_locks import MIGRATION
from vroegsignaal.service.db import NO_PREPARED_STATEMENTS, database_url_or_raise, ensure_sqlite_folder

MSG_NO_DATABASE = (
    "DATABASE_URL: the SQLite database '{path}' does not exist; run 'vroegsignaal db upgrade' to create it, or "
    "point DATABASE_URL at the service's database"
)
MSG_NOT_MIGRATED = (
    "DATABASE_URL: the database is at migration {current}, the service needs {head}; run 'vroegsignaal db upgrade'"
)
MSG_UNREACHABLE = "DATABASE_URL: the database cannot be reached ({error})"

SCRIPT_LOCATION = "vroegsignaal.service:migrations"


def alembic_config(database_url: str, *, connection: Connection | None = None) -> Config:
    """An Alembic config for ``database_url`` (or an open ``connection``, e.g. in tests)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # ConfigParser interpolation would treat a '%' in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_database(database_url: str, *, revision: str = "head") -> None:
    """Bring the database to ``revision`` (creates every table on an empty database).

    On PostgreSQL one process migrates at a time (replicas start together and each migrates on start): the others
    wait on an advisory lock, then find the database at ``revision`` already."""
    ensure_sqlite_folder(database_url)
    if database_url_or_raise(database_url).get_backend_name() != "postgresql":
        command.upgrade(alembic_config(database_url), revision)
        return
    # The lock and the migration share one transaction on one connection: the lock ends with it, and behind a
    # connection pooler in transaction mode a migrating replica needs one server connection, not one more while the
    # others wait (they would hold every server connection, waiting for the lock, and never let it finish). Nothing
    # is prepared on the server (a migration gains nothing by it), so this runs behind any pooler.
    engine = create_engine(database_url, poolclass=NullPool, connect_args=NO_PREPARED_STATEMENTS)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION})
            command.upgrade(alembic_config(database_url, connection=connection), revision)
            connection.commit()
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The migration the database is at (``None`` for an empty database)."""
    engine = create_engine(database_url, poolclass=NullPool, connect_args=_connect_args(database_url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _connect_args(database_url: str) -> dict:
    return NO_PREPARED_STATEMENTS if database_url_or_raise(database_url).get_backend_name() == "postgresql" else {}


def require_sqlite_file(database_url: str) -> None:
    """A command that reads the service's database refuses a SQLite path that does not exist (a typo would
    otherwise create an empty database file, and folders, and fail later with a traceback)."""
    parsed = database_url_or_raise(database_url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" and not Path(database).exists():
        raise ConfigError(MSG_NO_DATABASE.format(path=database))


def require_migrated(engine: Engine) -> None:
    """Refuse a database that is not at the newest migration, with the command that fixes it."""
    head = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False))).get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as error:
        reason = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0][:200]
        raise ConfigError(MSG_UNREACHABLE.format(error=reason)) from None
    if current != head:
        raise ConfigError(MSG_NOT_MIGRATED.format(current=current or "none (an empty database)", head=head))
