"""A household's history: everything the service holds about it, for a caseworker of its municipality.

Another municipality's household is "not found" (404), never "forbidden", so its existence does not leak. Every read
is audited.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from vroegsignaal.errors import NotFoundError
from vroegsignaal.schemas.api import (
    DecisionPublic,
    HouseholdFactsCreate,
    HouseholdHistoryResponse,
    Reason,
    ReviewItemPublic,
    ScorePublic,
    SignalPublic,
)
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.decisions import decisions_public
from vroegsignaal.service.models import Decision, Household, Objection, ReviewItem, Score, Signal
from vroegsignaal.schemas.tables import HOUSEHOLD_FACT_COLUMNS
from vroegsignaal.service.queue import advice_for
from vroegsignaal.service.scores import STATUS_OPEN
from vroegsignaal.service.security import Caller
from vroegsignaal.service.settings import Settings
from vroegsignaal.service.switches import current_ordering

MSG_UNKNOWN_HOUSEHOLD = "household not found in your municipality (pseudonyms are checked, never echoed)"


def household_or_raise(session: Session, *, caller: Caller, pseudonym: str) -> Household:
    """The caller's household: of their municipality and, for a caseworker, on their team's list. Another's is
    "unknown", exactly as one that never existed, so the answer does not tell whether it exists."""
    household = session.scalars(
        select(Household).where(
            Household.municipality_code == caller.municipality_or_raise(), Household.household_pseudonym == pseudonym
        )
    ).first()
    if household is None or (caller.team is not None and household.team != caller.team):
        raise NotFoundError(MSG_UNKNOWN_HOUSEHOLD)
    return household


def objection_active(session: Session, *, municipality: str, pseudonym: str) -> bool:
    return (
        session.scalars(
            select(Objection.id).where(
                Objection.municipality_code == municipality,
                Objection.household_pseudonym == pseudonym,
                Objection.withdrawn_at.is_(None),
            )
        ).first()
        is not None
    )


def household_history(
    session: Session, *, pseudonym: str, caller: Caller, settings: Settings, now: dt.datetime
) -> HouseholdHistoryResponse:
    """The household's facts, signals, scores, review items and decisions; audited as a read."""
    municipality = caller.municipality_or_raise()
    with session.begin():
        household = household_or_raise(session, caller=caller, pseudonym=pseudonym)
        signals = session.scalars(
            select(Signal).where(Signal.household_id == household.id).order_by(Signal.signal_date, Signal.id)
        ).all()
        scores = session.scalars(
            select(Score).where(Score.household_id == household.id).order_by(Score.scored_at, Score.id)
        ).all()
        items = session.scalars(
            select(ReviewItem).where(ReviewItem.household_id == household.id).order_by(ReviewItem.id)
        ).all()
        decisions = session.scalars(
            select(Decision).where(Decision.household_id == household.id).order_by(Decision.decided_at, Decision.id)
        ).all()
        objected = objection_active(session, municipality=municipality, pseudonym=pseudonym)
        audit(
            session,
            AuditEntry.by(
                caller,
                municipality_code=municipality,
                action=AuditAction.READ_HOUSEHOLD,
                object_id=pseudonym,
            ),
            now=now,
        )
        decided = decisions_public(session, decisions, pseudonyms={household.id: pseudonym})
        # An open item follows the municipality's ordering mode now; a closed one holds what it was decided on.
        ordering, _ = current_ordering(session, municipality)
        advices = [
            advice_for(
                approach=i.approach, standard_reason=i.standard_reason, suggested_intensity=i.suggested_intensity,
                ordering=ordering if i.status == STATUS_OPEN else "model",
                standard_intensity=settings.standard_intensity.value,
            )
            for i in items
        ]
        # A case handled the standard way (control sample, rule-based order) must not be steered by its score: the
        # scores are withheld while it is open, as on the household page, and so is what earlier cases show of them
        # (the suggested intensity is the risk band under another name, as objections.py erases it).
        blinded = any(i.status == STATUS_OPEN and a.approach != "model" for i, a in zip(items, advices, strict=True))
        if blinded:
            decided = [_without_advice(d) if d.approach == "model" else d for d in decided]
    return HouseholdHistoryResponse(
        household_id=pseudonym,
        municipality_code=municipality,
        team=household.team,
        neighbourhood=household.neighbourhood,
        facts=HouseholdFactsCreate.model_validate(
            {column: getattr(household, column) for column in HOUSEHOLD_FACT_COLUMNS}, strict=False
        ),
        objection_active=objected,
        signals=[
            SignalPublic(
                signal_id=s.signal_ref,
                partner_type=s.partner_type,
                amount_eur=s.amount_eur,
                arrears_start_date=s.arrears_start_date,
                signal_date=s.signal_date,
                crisis=s.crisis,
                warm_handover=s.warm_handover,
                end_of_supply=s.end_of_supply,
                received_at=s.received_at,
                replaces_signal_id=s.replaces_ref,
                replaced_by_signal_id=s.replaced_by_ref,
            )
            for s in signals
        ],
        scores=[] if blinded else [
            ScorePublic(
                id=s.id,
                model_version=s.model_version,
                reference_date=s.reference_date,
                score=s.score,
                risk_band=s.band,
                suggested_intensity=s.intensity,
                uncertain=s.uncertain,
                out_of_distribution=s.out_of_distribution,
                reasons=[Reason(**reason) for reason in s.reasons],
                scored_at=s.scored_at,
            )
            for s in scores
        ],
        review_items=[
            ReviewItemPublic(
                id=i.id,
                team=i.team,
                status=i.status,
                approach=advice.approach,
                standard_reason=advice.standard_reason,
                control_sample=i.control_sample,
                urgent=i.crisis or i.end_of_supply,
                suggested_intensity=None if blinded and advice.approach == "model" else advice.suggested_intensity,
                received_on=i.received_on,
                deadline=i.deadline,
                held_until=i.held_until,
                created_at=i.created_at,
                updated_at=i.updated_at,
                closed_at=i.closed_at,
            )
            for i, advice in zip(items, advices, strict=True)
        ],
        decisions=decided,
    )


def _without_advice(decision: DecisionPublic) -> DecisionPublic:
    """A decision on the model's advice without what tells the advice: the suggested intensity, the rank the case
    had on the list, and whether the caseworker departed from the intensity (the chosen one stays: it is what was
    done)."""
    return decision.model_copy(update={"suggested_intensity": None, "rank_at_decision": None, "departed_intensity": None})
