"""A signal keeps the reference date of the request that brought it.

The decisions export tells the feature builder from which reference date each signal counts (``known_date``), so a
decision's training row holds the signals the service had when it scored the household: not one received after
the decision, but every one a request for a past reference date brought. Signals from before this revision fall
back to the day they were received.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("known_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signals") as batch:
        batch.drop_column("known_on")
