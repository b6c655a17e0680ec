"""A signal partner can correct a signal: the correction names the signal it replaces.

A wrong amount or date used to stay on file beside its correction (sent with a new id), and both counted: the
household's arrears, its urgency and the cooldown's baseline kept the wrong figure. ``replaces_ref`` on the
correction and ``replaced_by_ref`` on the replaced signal record the pair; a replaced signal no longer counts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("replaces_ref", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("replaced_by_ref", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signals") as batch:
        batch.drop_column("replaced_by_ref")
        batch.drop_column("replaces_ref")
