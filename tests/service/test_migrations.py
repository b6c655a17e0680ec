"""Migrations create the schema from empty and match the models exactly (autogenerate finds no difference)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from vroegsignaal.service.audit import GENESIS_HASH
from vroegsignaal.service.models import AuditChainHead, Base


def test_upgrade_from_empty_creates_every_table_and_the_chain_head(session_engine):
    tables = set(inspect(session_engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    with session_engine.connect() as connection:
        head = connection.execute(select(AuditChainHead)).one()
    assert head.id == 1 and head.anchor_hash == GENESIS_HASH


def test_models_and_migrations_do_not_differ(session_engine):
    with session_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
