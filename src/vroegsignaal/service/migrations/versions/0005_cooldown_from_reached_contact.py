"""The cooldown starts at the latest contact attempt that reached the resident.

Before this revision a decision's ``last_contact_on`` was its latest attempt of any kind, so a letter nobody
answered, or an administrative step, held the household back for the whole cooldown. It is recomputed here from the
decision's stored contact attempts: the latest one with ``reached`` true that is not ``administrative``, or none.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_decisions = sa.table("decisions", sa.column("id", sa.Integer), sa.column("last_contact_on", sa.Date))
_attempts = sa.table(
    "contact_attempts",
    sa.column("decision_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("reached", sa.Boolean),
    sa.column("attempted_on", sa.Date),
)


def upgrade() -> None:
    reached_on = (
        sa.select(sa.func.max(_attempts.c.attempted_on))
        .where(
            _attempts.c.decision_id == _decisions.c.id,
            _attempts.c.reached.is_(True),
            _attempts.c.kind != "administrative",
        )
        .scalar_subquery()
    )
    op.execute(_decisions.update().values(last_contact_on=reached_on))


def downgrade() -> None:
    any_attempt = (
        sa.select(sa.func.max(_attempts.c.attempted_on))
        .where(_attempts.c.decision_id == _decisions.c.id)
        .scalar_subquery()
    )
    op.execute(_decisions.update().values(last_contact_on=any_attempt))
