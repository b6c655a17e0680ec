"""A decision records the order the list followed when it was made: the model's or the rule-based fallback's.

The oversight report compares the outcomes of the control sample with those of the households the model scored;
both groups must come from decisions made while the model ordered the list, for under the rule-based order every
household is handled the standard way and the control sample is no comparison. Decisions from before this
revision have none recorded and count as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("ordering", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("ordering")
