"""At most one champion: a partial unique index on the model versions' status.

Two promotions at once (two replicas) each retired the champion they saw and left two champions, each replica
serving another model. The index makes the second promotion's commit fail (409, retry), whatever the timing. A
database that already holds two champions keeps the one promoted last; the others become retired.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CHAMPION = sa.text("status = 'champion'")


def upgrade() -> None:
    op.execute(
        "UPDATE model_versions SET status = 'retired' WHERE status = 'champion' AND version NOT IN ("
        "SELECT version FROM model_versions WHERE status = 'champion' "
        "ORDER BY status_changed_at DESC, version DESC LIMIT 1)"
    )
    with op.batch_alter_table("model_versions") as batch:
        batch.create_index(
            "uq_model_versions_one_champion", ["status"], unique=True, sqlite_where=CHAMPION, postgresql_where=CHAMPION
        )


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_index("uq_model_versions_one_champion", sqlite_where=CHAMPION, postgresql_where=CHAMPION)
