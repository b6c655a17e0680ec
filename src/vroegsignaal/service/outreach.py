"""A team's outreach list: the open review items, ordered, with deadlines, overdue marks and what is held back.

Households that objected (GDPR art. 21) are never ranked among the scored households: they are listed apart, under
the standard approach, in the rule-based order. The control sample is ranked by a keyed random draw and shown
without its score, so caseworkers treat it the standard way. Reading the list is audited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from vroegsignaal.schemas.api import OutreachItemPublic, OutreachListResponse, Reason
from vroegsignaal.schemas.enums import ContactIntensity, PartnerType, ReviewFlag
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.clock import dutch_today, start_of_dutch_week
from vroegsignaal.service.control_sample import position_draw
from vroegsignaal.service.models import Decision, Household, ReviewItem, Score, Signal
from vroegsignaal.service.queue import (
    ARREARS_WINDOW_DAYS,
    Ordering,
    QueueEntry,
    advice_for,
    order_entries,
    review_flags,
)
from vroegsignaal.service.scores import STATUS_OPEN, flag_public
from vroegsignaal.service.security import Caller
from vroegsignaal.service.settings import Settings
from vroegsignaal.service.switches import current_ordering

#: Flags that would reveal the score of an item that must be treated the standard way.
MODEL_FLAGS = frozenset({ReviewFlag.HIGH_RISK.value, ReviewFlag.UNCERTAIN.value, ReviewFlag.OUT_OF_DISTRIBUTION.value})


class QueueRow(NamedTuple):
    """What one queue entry carries besides its ordering keys (``QueueEntry.payload``)."""

    item: ReviewItem
    pseudonym: str
    score: Score | None
    neighbourhood: str | None


@dataclass(frozen=True)
class QueueView:
    """A team's open items: the ordered list, the standard-approach list, and the items held back."""

    listed: list[QueueEntry]
    standard: list[QueueEntry]
    held_back: list[QueueEntry]

    def rank_of(self, item_id: int) -> int | None:
        for entries in (self.listed, self.standard):
            for position, entry in enumerate(entries, start=1):
                if entry.item_id == item_id:
                    return position
        return None


def _queue_rows(session: Session, *, municipality: str, team: str | None) -> Sequence[Row[Any]]:
    query = (
        select(ReviewItem, Household.household_pseudonym, Score, Household.neighbourhood)
        .join(Household, Household.id == ReviewItem.household_id)
        .outerjoin(Score, Score.id == ReviewItem.score_id)
        .where(ReviewItem.municipality_code == municipality, ReviewItem.status == STATUS_OPEN)
    )
    if team is not None:
        query = query.where(ReviewItem.team == team)
    return session.execute(query).all()


def load_queue(
    session: Session, *, municipality: str, team: str | None, today: dt.date, ordering: Ordering, settings: Settings
) -> QueueView:
    """The open items of a team (or of every team when ``team`` is ``None``), ordered."""
    key = settings.control_sample_key.get_secret_value().encode()
    listed, standard, held = [], [], []
    for item, pseudonym, score, neighbourhood in _queue_rows(session, municipality=municipality, team=team):
        entry = QueueEntry(
            item_id=item.id,
            urgent=item.crisis or item.end_of_supply,
            deadline=item.deadline,
            score=score.score if score is not None else None,
            ranked_by_model=item.approach == "model" and score is not None,
            position_draw=position_draw(key=key, municipality=municipality, household=pseudonym),
            first_signal_date=item.first_signal_date,
            payload=QueueRow(item, pseudonym, score, neighbourhood),
        )
        if item.held_until is not None and item.held_until > today:
            held.append(entry)
        elif item.standard_reason == "objection":
            standard.append(entry)
        else:
            listed.append(entry)
    return QueueView(
        listed=order_entries(listed, ordering=ordering, today=today),
        standard=order_entries(standard, ordering="rule", today=today),
        held_back=held,
    )


def item_public(
    entry: QueueEntry,
    *,
    rank: int,
    today: dt.date,
    ordering: Ordering,
    standard_intensity: str,
    partners: Collection[str] = (),
) -> OutreachItemPublic:
    """One line of the list; model details are hidden for items handled the standard way."""
    item, pseudonym, score, neighbourhood = entry.payload
    advice = advice_for(
        approach=item.approach, standard_reason=item.standard_reason, suggested_intensity=item.suggested_intensity,
        ordering=ordering, standard_intensity=standard_intensity,
    )
    show_model = advice.approach == "model" and score is not None
    scorer_flags = [f for f in (score.flags if score is not None else []) if show_model or f not in MODEL_FLAGS]
    flags = review_flags(
        scorer_flags=scorer_flags, crisis=item.crisis, end_of_supply=item.end_of_supply,
        control_sample=item.control_sample,
    )
    ood = score.out_of_distribution if show_model else []
    return OutreachItemPublic(
        rank=rank,
        review_item_id=item.id,
        household_id=pseudonym,
        team=item.team,
        neighbourhood=neighbourhood,
        partners=[partner for partner in PartnerType if partner.value in partners],
        approach=advice.approach,
        standard_reason=advice.standard_reason,
        score=score.score if show_model else None,
        risk_band=score.band if show_model else None,
        suggested_intensity=ContactIntensity(advice.suggested_intensity),
        reasons=[Reason(**reason) for reason in score.reasons] if show_model else [],
        review_flags=[flag_public(flag, ood=ood) for flag in flags],
        urgent=entry.urgent,
        received_on=item.received_on,
        first_signal_date=item.first_signal_date,
        deadline=item.deadline,
        overdue=entry.overdue(today),
        updated_at=item.updated_at,
    )


def recent_partners(session: Session, household_ids: Sequence[int], *, today: dt.date) -> dict[int, set[str]]:
    """Per household: the partner types that sent a signal in the last 12 months (one query)."""
    start = today - dt.timedelta(days=ARREARS_WINDOW_DAYS - 1)
    rows = session.execute(
        select(Signal.household_id, Signal.partner_type)
        .where(
            Signal.household_id.in_(household_ids),
            Signal.signal_date >= start,
            Signal.signal_date <= today,
            Signal.replaced_by_ref.is_(None),  # a corrected signal counts once, as its correction
        )
        .distinct()
    )
    partners: dict[int, set[str]] = defaultdict(set)
    for household_id, partner in rows:
        partners[household_id].add(partner)
    return partners


def decisions_since(
    session: Session, *, municipality: str, team: str | None, since: dt.datetime
) -> dict[str, int]:
    """Per team: the decisions recorded in ``municipality`` since ``since`` (only ``team``'s, unless ``None``)."""
    query = (
        select(Decision.team, func.count())
        .where(Decision.municipality_code == municipality, Decision.decided_at >= since)
        .group_by(Decision.team)
    )
    if team is not None:
        query = query.where(Decision.team == team)
    return {name: int(count) for name, count in session.execute(query)}


def weekly_capacity(settings: Settings, *, team: str | None, view: QueueView, decided: Mapping[str, int]) -> int:
    """What the list's teams can contact in a week: the setting per team, times the teams on an all-teams list
    (those with open items or with decisions this week)."""
    if team is not None:
        return settings.weekly_capacity
    entries = (*view.listed, *view.standard, *view.held_back)
    teams = {entry.payload.item.team for entry in entries} | set(decided)
    return settings.weekly_capacity * max(len(teams), 1)


def list_outreach(
    session: Session,
    *,
    caller: Caller,
    team: str | None,
    settings: Settings,
    now: dt.datetime,
    limit: int,
) -> OutreachListResponse:
    """The caller's team list (a caseworker always gets their own team; an admin may name one)."""
    municipality = caller.municipality_or_raise()
    team = caller.team if caller.team is not None else team
    today = dutch_today(now)
    with session.begin():
        ordering, _ = current_ordering(session, municipality)
        view = load_queue(session, municipality=municipality, team=team, today=today, ordering=ordering,
                          settings=settings)
        shown = (*view.listed[:limit], *view.standard[:limit])
        partners = recent_partners(session, [entry.payload.item.household_id for entry in shown], today=today)
        decided = decisions_since(session, municipality=municipality, team=team, since=start_of_dutch_week(now))
        audit(
            session,
            AuditEntry.by(
                caller,
                municipality_code=municipality,
                action=AuditAction.READ_OUTREACH_LIST,
                object_id=team,
                # Who saw which household: every pseudonym the list shows, so an auditor finds list views too.
                detail={
                    "listed": len(view.listed),
                    "standard": len(view.standard),
                    "ordering": ordering,
                    "shown": [entry.payload.pseudonym for entry in shown],
                },
            ),
            now=now,
        )
    shown_as = {"today": today, "ordering": ordering, "standard_intensity": settings.standard_intensity.value}
    items = _public_items(view.listed[:limit], partners=partners, **shown_as)
    standard = _public_items(view.standard[:limit], partners=partners, **shown_as)
    return OutreachListResponse(
        municipality_code=municipality,
        team=team or "*",
        ordering=ordering,
        today=today,
        items=items,
        standard_approach=standard,
        listed_count=len(view.listed),
        held_back_count=len(view.held_back),
        overdue_count=sum(e.overdue(today) for e in (*view.listed, *view.standard)),
        capacity_per_week=weekly_capacity(settings, team=team, view=view, decided=decided),
        decided_this_week=sum(decided.values()),
        decided_this_week_by_team=dict(decided),
    )


def _public_items(
    entries: Sequence[QueueEntry],
    *,
    today: dt.date,
    ordering: Ordering,
    standard_intensity: str,
    partners: Mapping[int, set[str]],
) -> list[OutreachItemPublic]:
    return [
        item_public(
            entry, rank=rank, today=today, ordering=ordering, standard_intensity=standard_intensity,
            partners=partners.get(entry.payload.item.household_id, ()),
        )
        for rank, entry in enumerate(entries, start=1)
    ]
