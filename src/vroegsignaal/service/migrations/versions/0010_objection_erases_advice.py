"""The advice a score gave may be erased: decisions' and review items' suggested intensity may be empty.

When the model ordered a case, its suggested first contact (home visit, phone, letter) is the risk band under
another name, and a decision's position in the list came from the score. A resident's objection erases their scores
and everything copied from them, so these become empty for the model's advice of a household that objected.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("decisions", "review_items")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("suggested_intensity", existing_type=sa.String(32), nullable=True)


def downgrade() -> None:
    # Erased advice cannot come back: the older schema gets the standard approach's first contact in its place.
    for table in TABLES:
        op.execute(sa.text(f"UPDATE {table} SET suggested_intensity = 'letter' WHERE suggested_intensity IS NULL"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("suggested_intensity", existing_type=sa.String(32), nullable=False)
