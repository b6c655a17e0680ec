"""Retention: purge signals, scores and what derives from them after the configured period; keep the audit log at
least six months (AI Act art. 26(6)) and purge it only from its start, so the rest of the chain still verifies.

Objections are kept: they are the record that the resident's right was honoured. Open review items are kept too;
one whose household loses a signal or score is marked changed (see :func:`purge_expired`). A case's arrears total,
and the copy its decision keeps, is summed again over the signals the purge keeps: the cooldown compares a new
signal's arrears with the total at the last contact, and a total that still counted purged amounts would outlive
them and hold back a household whose arrears rose.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
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
from vroegsignaal.service.queue import SignalFacts, total_arrears
from vroegsignaal.service.score_store import STATUS_OPEN, lock_review_items
from vroegsignaal.service.settings import Settings

STATUS_CLOSED = "closed"
#: The purge's audit record names the moment before which it deleted signals and scores under this key.
DATA_CUTOFF_KEY = "data_cutoff"


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted, per table, the open cases it marked changed, the cases whose arrears total it summed
    again (open ones, and decided ones with their decisions), and the cut-off times it used."""

    data_cutoff: dt.datetime
    audit_cutoff: dt.datetime
    deleted: dict[str, int]
    cases_changed: int = 0
    arrears_recounted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_cutoff": self.data_cutoff.isoformat(),
            "audit_cutoff": self.audit_cutoff.isoformat(),
            "deleted": dict(self.deleted),
            "cases_changed": self.cases_changed,
            "arrears_recounted": self.arrears_recounted,
        }


def purge_expired(session: Session, *, settings: Settings, now: dt.datetime, actor: str = "system") -> PurgeReport:
    """Delete everything past its retention period in one transaction and audit the purge.

    An open review item whose household loses a signal or a score is marked changed (``updated_at``): the list and
    the household page no longer show what a caseworker may have read before the purge (the score the item was
    ranked by, the signals and scores of its history), so a decision sent with the earlier version is refused as
    on a case that changed, and the caseworker looks again. The arrears total of a case, and of a decision kept,
    is summed again over the signals kept when it counted a purged one (see :func:`_recount_decisions`)."""
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
        # Decisions before signals, as the old ones are deleted and an objection takes them.
        recounted = _recount_decisions(session, cutoff=data_cutoff)
        # Rows are taken in the order the requests that meet a purge take them, so that none waits for another in
        # a circle (PostgreSQL): a scoring request locks a signal it corrects before its open case, an objection
        # locks decisions, then the open case, then closed cases and scores. So: signals, then the open cases that
        # lose a signal or score (found before anything went), then closed cases and scores.
        losing = _open_cases_losing_data(session, cutoff=data_cutoff)
        deleted["signals"] = _count(session.execute(delete(Signal).where(Signal.received_at < data_cutoff)))
        cases_changed = _mark_changed(session, losing, now=now)
        arrears_recounted = len(recounted) + _recount_open_cases(session, losing, now=now)
        _set_arrears(session, ReviewItem, recounted.values())
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
            "arrears_recounted": arrears_recounted,
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
        data_cutoff=data_cutoff, audit_cutoff=audit_cutoff, deleted=deleted, cases_changed=cases_changed,
        arrears_recounted=arrears_recounted,
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


def _recount_decisions(session: Session, *, cutoff: dt.datetime) -> dict[int, tuple[int, float]]:
    """Sum again, over the signals received from ``cutoff`` on (those the purge keeps), the arrears of each decision
    kept whose household has a signal from before it; set those that change. Per decision changed: its review item
    and the new total (the decision copied its case's total; the case is set later, in the order cases are locked).

    A decision's total is its case's when it was decided: the latest amount per partner in the 12 months up to its
    reference date, over the signals on file then that no correction received by then had replaced."""
    expiring = exists().where(Signal.household_id == Decision.household_id, Signal.received_at < cutoff)
    decisions = session.execute(
        select(
            Decision.id, Decision.review_item_id, Decision.household_id, Decision.decided_at,
            Decision.reference_date, Decision.total_arrears_eur,
        )
        .join(ReviewItem, ReviewItem.id == Decision.review_item_id)
        .where(ReviewItem.closed_at >= cutoff, expiring)
    ).all()
    signals = _household_signals(session, {d.household_id for d in decisions})
    recounted: dict[int, tuple[int, float]] = {}
    for d in decisions:
        counted = _in_force_at(signals[d.household_id], d.decided_at)
        total = _arrears([s for s in counted if s.received_at >= cutoff], reference=d.reference_date)
        if not _same_amount(total, d.total_arrears_eur):
            recounted[d.id] = (d.review_item_id, total)
    _set_arrears(session, Decision, ((decision_id, total) for decision_id, (_, total) in recounted.items()))
    return recounted


def _recount_open_cases(session: Session, item_ids: Sequence[int], *, now: dt.datetime) -> int:
    """Sum again the arrears of those of ``item_ids`` still open, over their households' signals left after the
    purge, those in force (a case takes every later signal and correction of its household); how many changed."""
    ids = sorted(item_ids)
    items = [
        item
        for start in range(0, len(ids), _ID_CHUNK)
        for item in session.execute(
            select(
                ReviewItem.id, ReviewItem.household_id, ReviewItem.reference_date, ReviewItem.received_on,
                ReviewItem.total_arrears_eur,
            ).where(ReviewItem.id.in_(ids[start : start + _ID_CHUNK]), ReviewItem.status == STATUS_OPEN)
        )
    ]
    signals = _household_signals(session, {item.household_id for item in items})
    changed = []
    for item in items:
        # An item from before migration 0008 has no reference date: its decision counts from the day it came in.
        reference = item.reference_date or item.received_on
        total = _arrears(_in_force_at(signals[item.household_id], now), reference=reference)
        if not _same_amount(total, item.total_arrears_eur):
            changed.append((item.id, total))
    _set_arrears(session, ReviewItem, changed)
    return len(changed)


_SIGNAL_COLUMNS = (
    Signal.household_id, Signal.signal_ref, Signal.replaced_by_ref, Signal.received_at, Signal.partner_type,
    Signal.amount_eur, Signal.arrears_start_date, Signal.signal_date, Signal.crisis, Signal.end_of_supply,
)


def _household_signals(session: Session, household_ids: Collection[int]) -> dict[int, list[Any]]:
    """The signals on file of each of ``household_ids``, replaced ones included."""
    ids = sorted(household_ids)
    signals: dict[int, list[Any]] = defaultdict(list)
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        for row in session.execute(select(*_SIGNAL_COLUMNS).where(Signal.household_id.in_(chunk))):
            signals[row.household_id].append(row)
    return signals


def _in_force_at(signals: Sequence[Any], moment: dt.datetime) -> list[Any]:
    """Those of ``signals`` that counted at ``moment``: received by then, and not replaced by a correction received
    by then."""
    received = {s.signal_ref: s for s in signals if s.received_at <= moment}
    return [s for s in received.values() if s.replaced_by_ref not in received]


def _arrears(signals: Iterable[Any], *, reference: dt.date) -> float:
    return total_arrears([SignalFacts.of(s._asdict()) for s in signals], reference=reference)


def _same_amount(a: float, b: float) -> bool:
    # The same amounts summed in another order may differ in the last bits.
    return math.isclose(a, b, abs_tol=0.005)


def _set_arrears(session: Session, table: type[Decision | ReviewItem], totals: Iterable[tuple[int, float]]) -> None:
    """Set each row's ``total_arrears_eur``, one row at a time in id order (the order writers lock rows in)."""
    for row_id, total in sorted(totals):
        session.execute(update(table).where(table.id == row_id).values(total_arrears_eur=total))


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
