"""A review item keeps the reference date of the request that filed its signals.

A decision's exported training row describes the score's reference date; in the rule-based order there is no score,
and the export used the day the case was opened instead of the date the request named (two cases of one household
sent for two past dates became one row, one label lost). Items from before this revision keep that fallback.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("reference_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.drop_column("reference_date")
