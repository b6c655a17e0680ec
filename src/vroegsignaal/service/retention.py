"""Retention: purge signals, scores and what derives from them after the configured period; keep the audit log at
least six months (AI Act art. 26(6)) and purge it only from its start, so the rest of the chain still verifies.

Objections are kept: they are the record that the resident's right was honoured. Open review items are kept too;
one whose household loses a signal or score is marked changed (see :func:`purge_expired`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from vroegsignaal.service.audit import (
    ANCHOR_HASH_KEY,
    ANCHOR_SEQ_KEY,
    CHAIN_HEAD_ID,
    AuditAction,
    AuditEntry,
    audit,
    purge_audit_records,
)
from vroegsignaal.service.models import (
    AuditChainHead,
    AuditRecord,
    ContactAttempt,
    Decision,
    Household,
    ReviewItem,
    Score,
    ScoreSubmission,
    Signal,
)
from vroegsignaal.service.score_store import STATUS_OPEN, lock_review_items
from vroegsignaal.service.settings import Settings

STATUS_CLOSED = "closed"
#: The purge's audit record names the moment before which it deleted signals and scores under this key.
DATA_CUTOFF_KEY = "data_cutoff"


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted, per table, the open cases it marked changed, and the cut-off times it used."""

    data_cutoff: dt.datetime
    audit_cutoff: dt.datetime
    deleted: dict[str, int]
    cases_changed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_cutoff": self.data_cutoff.isoformat(),
            "audit_cutoff": self.audit_cutoff.isoformat(),
            "deleted": dict(self.deleted),
            "cases_changed": self.cases_changed,
        }


def purge_expired(session: Session, *, settings: Settings, now: dt.datetime, actor: str = "system") -> PurgeReport:
    """Delete everything past its retention period in one transaction and audit the purge.

    An open review item whose household loses a signal or a score is marked changed (``updated_at``): the list and
    the household page no longer show what a caseworker may have read before the purge (the score the item was
    ranked by, the signals and scores of its history), so a decision sent with the earlier version is refused as
    on a case that changed, and the caseworker looks again."""
    data_cutoff = now - dt.timedelta(days=settings.retention_days)
    audit_cutoff = now - dt.timedelta(days=settings.audit_retention_days)
    deleted: dict[str, int] = {}
    with session.begin():
        deleted["score_submissions"] = _count(
            session.execute(delete(ScoreSubmission).where(ScoreSubmission.created_at < data_cutoff))
        )
        old_items = select(ReviewItem.id).where(ReviewItem.status == STATUS_CLOSED, ReviewItem.closed_at < data_cutoff)
        # Decisions go with their review items; their contact attempts cascade with them and are counted first.
        old_decisions = select(Decision.id).where(Decision.review_item_id.in_(old_items))
        deleted["contact_attempts"] = session.scalar(
            select(func.count()).select_from(ContactAttempt).where(ContactAttempt.decision_id.in_(old_decisions))
        ) or 0
        deleted["decisions"] = _count(session.execute(delete(Decision).where(Decision.review_item_id.in_(old_items))))
        # Rows are taken in the order the requests that meet a purge take them, so that none waits for another in
        # a circle (PostgreSQL): a scoring request locks a signal it corrects before its open case, an objection
        # locks decisions, then the open case, then closed cases and scores. So: signals, then the open cases that
        # lose a signal or score (found before anything went), then closed cases and scores.
        losing = _open_cases_losing_data(session, cutoff=data_cutoff)
        deleted["signals"] = _count(session.execute(delete(Signal).where(Signal.received_at < data_cutoff)))
        cases_changed = _mark_changed(session, losing, now=now)
        deleted["review_items"] = _count(session.execute(delete(ReviewItem).where(ReviewItem.id.in_(old_items))))
        deleted["scores"] = _count(session.execute(delete(Score).where(Score.scored_at < data_cutoff)))
        orphan = (
            ~exists().where(Signal.household_id == Household.id)
            & ~exists().where(ReviewItem.household_id == Household.id)
            & ~exists().where(Decision.household_id == Household.id)
        )
        deleted["households"] = _delete_orphans(session, orphan)
        deleted["audit_log"] = purge_audit_records(session, before=audit_cutoff)
        # The cut-off is recorded: the export leaves out decisions whose signal history it cut (export.py).
        detail: dict[str, Any] = dict(deleted) | {
            "cases_changed": cases_changed,
            DATA_CUTOFF_KEY: data_cutoff.isoformat(),
        }
        if deleted["audit_log"]:
            # Where the chain now starts, under this record's hash: audit-verify accepts a start it can explain.
            head = session.get(AuditChainHead, CHAIN_HEAD_ID)
            detail |= {ANCHOR_SEQ_KEY: head.anchor_seq, ANCHOR_HASH_KEY: head.anchor_hash}
        audit(
            session,
            AuditEntry(actor=actor, role="system", action=AuditAction.RETENTION_PURGE, detail=detail),
            now=now,
        )
    return PurgeReport(
        data_cutoff=data_cutoff, audit_cutoff=audit_cutoff, deleted=deleted, cases_changed=cases_changed
    )


def latest_data_cutoff(session: Session) -> dt.datetime | None:
    """The latest moment before which a retention purge deleted signals and scores (``None``: never purged), from
    the purges' audit records. A record from before purges named their cut-off counts from its own time: what was
    received before it may be gone."""
    records = session.execute(
        select(AuditRecord.created_at, AuditRecord.detail).where(AuditRecord.action == AuditAction.RETENTION_PURGE)
    ).all()
    cutoffs = [
        dt.datetime.fromisoformat(detail[DATA_CUTOFF_KEY]) if DATA_CUTOFF_KEY in (detail or {}) else created_at
        for created_at, detail in records
    ]
    return max(cutoffs, default=None)


def _open_cases_losing_data(session: Session, *, cutoff: dt.datetime) -> list[int]:
    """The open review items whose household has a score or signal from before ``cutoff``, about to be purged (read
    without locking them)."""
    expiring = or_(
        exists().where(Score.household_id == ReviewItem.household_id, Score.scored_at < cutoff),
        exists().where(Signal.household_id == ReviewItem.household_id, Signal.received_at < cutoff),
    )
    return list(session.scalars(select(ReviewItem.id).where(ReviewItem.status == STATUS_OPEN, expiring)))


def _mark_changed(session: Session, item_ids: list[int], *, now: dt.datetime) -> int:
    """Mark changed (``updated_at``) those of ``item_ids`` still open; how many."""
    changed = 0
    item_ids = sorted(item_ids)
    for start in range(0, len(item_ids), _ID_CHUNK):
        chunk = item_ids[start : start + _ID_CHUNK]
        lock_review_items(session.connection(), ReviewItem.id.in_(chunk), ReviewItem.status == STATUS_OPEN)
        statement = update(ReviewItem).where(ReviewItem.id.in_(chunk), ReviewItem.status == STATUS_OPEN)
        changed += _count(session.execute(statement.values(updated_at=now)))
    return changed


#: Rows changed or deleted per statement by id (PostgreSQL takes at most 65,535 parameters in one).
_ID_CHUNK = 10_000


def _delete_orphans(session: Session, orphan: Any) -> int:
    """Delete the households left without signals, items and decisions, safely beside scoring requests.

    The orphans are locked first, skipping any a scoring request holds (its upsert locks the household until it
    commits, and then it is no orphan); the delete then checks again, in a statement that sees what was committed
    meanwhile. A scoring request that comes for a locked household waits for the purge and then files it anew.
    Without this, a household with an acknowledged new signal could be deleted, and its signal and open case with
    it (PostgreSQL; SQLite writes one transaction at a time)."""
    locked = session.scalars(select(Household.id).where(orphan).with_for_update(skip_locked=True)).all()
    count = 0
    for start in range(0, len(locked), _ID_CHUNK):
        chunk = locked[start : start + _ID_CHUNK]
        count += _count(session.execute(delete(Household).where(Household.id.in_(chunk), orphan)))
    return count


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
