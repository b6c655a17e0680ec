"""The advice a score gave may be erased: decisions' and review items' suggested intensity may be empty, and so may
a decision's marks of departing from that advice.

When the model ordered a case, its suggested first contact (home visit, phone, letter) is the risk band under
another name, a decision's position in the list came from the score, and "did not depart" beside the contact the
caseworker chose tells the advice again. A resident's objection erases their scores and everything copied from
them, so these become empty for the model's advice of a household that objected.

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


#: A decision's marks of departing from the advice.
DEPARTURES = ("departed_intensity", "departed_order")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("suggested_intensity", existing_type=sa.String(32), nullable=True)
            if table == "decisions":
                for column in DEPARTURES:
                    batch.alter_column(column, existing_type=sa.Boolean(), nullable=True)


def downgrade() -> None:
    # Erased advice cannot come back: the older schema gets the standard approach's first contact in its place.
    # Erased marks of departing come back as "did not depart" (the older schema has no "unknown").
    for column in DEPARTURES:
        op.execute(sa.text(f"UPDATE decisions SET {column} = false WHERE {column} IS NULL"))
    for table in TABLES:
        op.execute(sa.text(f"UPDATE {table} SET suggested_intensity = 'letter' WHERE suggested_intensity IS NULL"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("suggested_intensity", existing_type=sa.String(32), nullable=False)
            if table == "decisions":
                for column in DEPARTURES:
                    batch.alter_column(column, existing_type=sa.Boolean(), nullable=False)
