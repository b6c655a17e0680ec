"""Operational switches stored in the database, so every worker sees the same value: the ordering mode.

The ordering mode is ``model`` (the model ranks and suggests the intensity) or ``rule`` (the rule-based fallback:
crisis first, oldest signal first, the standard approach, and no model is used at all). Only an admin switches it,
with a reason, and the switch is audited.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.hot_sql import execute
from vroegsignaal.service.models import ServiceSwitch
from vroegsignaal.service.queue import Ordering
from vroegsignaal.service.security import Caller

ORDERING_KEY = "ordering_mode"
DEFAULT_ORDERING: Ordering = "model"


# Read on every scoring request, from the database rather than a cache: every worker sees a switch at once.
_switches = ServiceSwitch.__table__
_SELECT_ORDERING = select(_switches.c.value).where(_switches.c.key == ORDERING_KEY)


def _mode(value: str | None) -> Ordering:
    return "rule" if value == "rule" else DEFAULT_ORDERING


def current_ordering(session: Session) -> tuple[Ordering, ServiceSwitch | None]:
    """The ordering mode in force (``model`` until an admin switched it) and the switch row, if any."""
    row = session.get(ServiceSwitch, ORDERING_KEY)
    return _mode(row.value if row is not None else None), row


def ordering_mode(connection: Connection) -> Ordering:
    """The ordering mode in force, read with one prebuilt statement (the scoring request's hot path)."""
    rows = execute(connection, _SELECT_ORDERING)
    return _mode(rows[0].value if rows else None)


def switch_ordering(session: Session, *, mode: Ordering, reason: str, caller: Caller, now: dt.datetime) -> ServiceSwitch:
    """Set the ordering mode and audit who switched it, when and why."""
    previous, row = current_ordering(session)
    if row is None:
        row = ServiceSwitch(key=ORDERING_KEY, value=mode, reason=reason, changed_by=caller.subject, changed_at=now)
        session.add(row)
    else:
        row.value, row.reason, row.changed_by, row.changed_at = mode, reason, caller.subject, now
    session.flush()
    audit(
        session,
        AuditEntry.by(
            caller,
            municipality_code=caller.municipality,
            action=AuditAction.ORDERING_SWITCH,
            detail={"from": previous, "to": mode},
        ),
        now=now,
    )
    return row
