"""Database migrations without an ``alembic.ini``: the configuration is built here, so migrations run from an
installed wheel (``vroegsignaal db upgrade``) as well as from a checkout.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from vroegsignaal.service.db import ensure_sqlite_folder

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
    """Bring the database to ``revision`` (creates every table on an empty database)."""
    ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)
