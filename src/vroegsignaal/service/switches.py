"""Operational switches stored in the database, so every worker sees the same value: the ordering mode.

The ordering mode is ``model`` (the model ranks and suggests the intensity) or ``rule`` (the rule-based fallback:
crisis first, oldest signal first, the standard approach, and no model is used at all). It is kept per
municipality: an admin, whose token belongs to one municipality, switches that municipality's lists, with a reason,
and the switch is audited. A municipality that never switched follows the model.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from vroegsignaal.schemas.enums import ModelStatus
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.hot_sql import execute
from vroegsignaal.service.score_store import STATUS_OPEN, lock_review_items
from vroegsignaal.service.models import ModelVersion, ReviewItem, ServiceSwitch
from vroegsignaal.service.queue import Ordering
from vroegsignaal.service.security import Caller

ORDERING_KEY = "ordering_mode"
DEFAULT_ORDERING: Ordering = "model"


def ordering_key(municipality: str) -> str:
    """The switch row of ``municipality``'s ordering mode."""
    return f"{ORDERING_KEY}:{municipality}"


# Read on every scoring request, from the database rather than a cache: every worker sees a switch at once.
_switches = ServiceSwitch.__table__
_versions = ModelVersion.__table__
_SELECT_ORDERING = select(_switches.c.value).where(_switches.c.key == bindparam("key"))
#: The ordering mode and the served version's status in one statement (one round trip on PostgreSQL).
_SELECT_ORDERING_AND_STATUS = select(
    select(_switches.c.value).where(_switches.c.key == bindparam("key")).scalar_subquery().label("value"),
    select(_versions.c.status).where(_versions.c.version == bindparam("version")).scalar_subquery().label("status"),
)


def _mode(value: str | None) -> Ordering:
    return "rule" if value == "rule" else DEFAULT_ORDERING


def current_ordering(session: Session, municipality: str) -> tuple[Ordering, ServiceSwitch | None]:
    """``municipality``'s ordering mode (``model`` until an admin switched it) and its switch row, if any."""
    row = session.get(ServiceSwitch, ordering_key(municipality))
    return _mode(row.value if row is not None else None), row


def ordering_and_rejection(connection: Connection, municipality: str, version: str | None) -> tuple[Ordering, bool]:
    """``municipality``'s ordering mode, and whether ``version`` (the model this replica serves) has been rejected
    since it was loaded, perhaps through another replica: read on every scoring request, so a rejection stops the
    model's use on every replica at once, not at their next reload."""
    rows = execute(
        connection, _SELECT_ORDERING_AND_STATUS, {"key": ordering_key(municipality), "version": version or ""}
    )
    return _mode(rows[0].value), rows[0].status == ModelStatus.REJECTED.value


def ordering_mode(connection: Connection, municipality: str) -> Ordering:
    """``municipality``'s ordering mode, read with one prebuilt statement (the scoring request's hot path)."""
    rows = execute(connection, _SELECT_ORDERING, {"key": ordering_key(municipality)})
    return _mode(rows[0].value if rows else None)


def rule_ordered_municipalities(session: Session) -> list[str]:
    """The municipalities whose lists follow the rule-based fallback now (for views that are not of one)."""
    prefix = ordering_key("")
    rows = session.execute(
        select(ServiceSwitch.key).where(
            ServiceSwitch.key.startswith(prefix, autoescape=True), ServiceSwitch.value == "rule"
        )
    ).scalars()
    return sorted(key.removeprefix(prefix) for key in rows)


def ordering_for(session: Session, caller: Caller) -> tuple[Ordering, list[str]]:
    """The ordering as ``caller`` sees it: their municipality's mode; for a role without a municipality, ``model``
    and the municipalities whose lists follow the rule-based fallback."""
    if caller.municipality is not None:
        return current_ordering(session, caller.municipality)[0], []
    return DEFAULT_ORDERING, rule_ordered_municipalities(session)


def switch_ordering(session: Session, *, mode: Ordering, reason: str, caller: Caller, now: dt.datetime) -> ServiceSwitch:
    """Set the ordering mode of the caller's municipality and audit who switched it, when and why."""
    municipality = caller.municipality_or_raise()
    previous, row = current_ordering(session, municipality)
    if row is None:
        row = ServiceSwitch(
            key=ordering_key(municipality), value=mode, reason=reason, changed_by=caller.subject, changed_at=now
        )
        session.add(row)
    else:
        row.value, row.reason, row.changed_by, row.changed_at = mode, reason, caller.subject, now
    session.flush()
    if mode != previous:
        # The advice of every open case changed with the order: a decision on the advice as it was is refused
        # (``case_updated_at``), and the caseworker sees the case as it is now.
        open_cases = (ReviewItem.municipality_code == municipality, ReviewItem.status == STATUS_OPEN)
        lock_review_items(session.connection(), *open_cases)
        session.execute(
            update(ReviewItem)
            .where(ReviewItem.municipality_code == municipality, ReviewItem.status == STATUS_OPEN)
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
    audit(
        session,
        AuditEntry.by(
            caller,
            municipality_code=municipality,
            action=AuditAction.ORDERING_SWITCH,
            detail={"from": previous, "to": mode, "reason": reason},
        ),
        now=now,
    )
    return row
