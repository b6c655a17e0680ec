"""The ordering switch (model or rule-based fallback) is kept per municipality.

An admin's token belongs to one municipality; one switch for the whole service let the admin of one municipality
move every other municipality's lists to the fallback. The switch row ``ordering_mode`` becomes one row
``ordering_mode:<municipality code>`` for every municipality the service knows, with the same value, reason and
author, so nobody's lists change order by the upgrade. Downgrading keeps the strictest: if any municipality was on
the rule-based fallback, the one switch is.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GLOBAL_KEY = "ordering_mode"
PREFIX = GLOBAL_KEY + ":"

switches = sa.table(
    "service_switches",
    sa.column("key", sa.String),
    sa.column("value", sa.String),
    sa.column("reason", sa.Text),
    sa.column("changed_by", sa.String),
    sa.column("changed_at", sa.DateTime),
)
households = sa.table("households", sa.column("municipality_code", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    row = connection.execute(
        sa.select(switches.c.value, switches.c.reason, switches.c.changed_by, switches.c.changed_at).where(
            switches.c.key == GLOBAL_KEY
        )
    ).first()
    if row is None:
        return
    municipalities = connection.execute(sa.select(households.c.municipality_code).distinct()).scalars().all()
    if municipalities:
        op.bulk_insert(
            switches,
            [
                {"key": PREFIX + code, "value": row.value, "reason": row.reason, "changed_by": row.changed_by,
                 "changed_at": row.changed_at}
                for code in municipalities
            ],
        )
    connection.execute(sa.delete(switches).where(switches.c.key == GLOBAL_KEY))


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(switches.c.value, switches.c.reason, switches.c.changed_by, switches.c.changed_at)
        .where(switches.c.key.startswith(PREFIX, autoescape=True))
        .order_by(switches.c.value.desc(), switches.c.changed_at.desc())  # 'rule' before 'model', latest first
    ).all()
    connection.execute(sa.delete(switches).where(switches.c.key.startswith(PREFIX, autoescape=True)))
    if rows:
        value, reason, changed_by, changed_at = rows[0]
        op.bulk_insert(
            switches,
            [{"key": GLOBAL_KEY, "value": value, "reason": reason, "changed_by": changed_by, "changed_at": changed_at}],
        )
