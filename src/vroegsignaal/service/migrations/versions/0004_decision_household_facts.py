"""Decisions keep the household's facts as they were when the decision was made.

The household row holds the latest facts and is overwritten by every scoring request. Exported for retraining, a
decision joined to those later facts would teach the model what happened after it (a referral to debt assistance
shows up as 'prior_debt_assistance' on the next signal). Decisions made before this revision have no snapshot; the
export falls back to the household's current facts for them and says how many.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("household_facts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("household_facts")
