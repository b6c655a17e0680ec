"""At most one champion: a partial unique index on the model versions' status.

Two promotions at once (two replicas) each retired the champion they saw and left two champions, each replica
serving another model. The index makes the second promotion's commit fail (409, retry), whatever the timing. A
database that already holds two champions keeps the one promoted last; the others become retired.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

"""
import datetime as dt
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CHAMPION = sa.text("status = 'champion'")


_versions = sa.table(
    "model_versions",
    sa.column("version", sa.String),
    sa.column("status", sa.String),
    sa.column("status_changed_at", sa.DateTime(timezone=True)),
)
_events = sa.table(
    "model_status_events",
    sa.column("version", sa.String),
    sa.column("from_status", sa.String),
    sa.column("to_status", sa.String),
    sa.column("actor", sa.String),
    sa.column("role", sa.String),
    sa.column("comment", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    champions = bind.execute(
        sa.select(_versions.c.version)
        .where(_versions.c.status == "champion")
        .order_by(_versions.c.status_changed_at.desc(), _versions.c.version.desc())
    ).scalars().all()
    now = dt.datetime.now(dt.UTC)
    for version in champions[1:]:  # every move is recorded, this one too
        bind.execute(
            _versions.update().where(_versions.c.version == version).values(status="retired", status_changed_at=now)
        )
        bind.execute(
            _events.insert().values(
                version=version, from_status="champion", to_status="retired", actor="migration-0007", role="system",
                comment=f"retired: {champions[0]} was promoted to champion later (two promotions at once)",
                created_at=now,
            )
        )
    with op.batch_alter_table("model_versions") as batch:
        batch.create_index(
            "uq_model_versions_one_champion", ["status"], unique=True, sqlite_where=CHAMPION, postgresql_where=CHAMPION
        )


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_index("uq_model_versions_one_champion", sqlite_where=CHAMPION, postgresql_where=CHAMPION)
