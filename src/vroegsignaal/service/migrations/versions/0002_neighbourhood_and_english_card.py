"""Households get an optional neighbourhood (wijk) so a team's outreach list can be filtered by it; model versions
keep the English HTML card beside the Dutch one, so the pages can show the card in the reader's language.

Both columns are nullable: existing households have no neighbourhood until a new signal names one, and versions
registered before this revision show the Dutch card.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("neighbourhood", sa.String(length=64), nullable=True))
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("card_html_en", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("card_html_en")
    with op.batch_alter_table("households") as batch:
        batch.drop_column("neighbourhood")
