"""The objections register (GDPR art. 21: the right to object to profiling).

What the law asks, and what the service does:

- Scoring a household is profiling for a task in the public interest (art. 6(1)(e)); a resident may object to it
  (art. 21(1)). Once an objection is registered the household is never scored again and never ranked on a list;
  its scores are erased (art. 17(1)(c)) and open review items switch to the standard approach.
- The signal itself, and the offer of help, rest on a legal obligation (Wgs art. 3a and 4; art. 6(1)(c) GDPR),
  to which the right to object does not apply. So the household's signals are still recorded and it is still
  offered help, the standard way (crisis first, oldest signal first), apart from the scored list.
- Withdrawing the objection lets the next signal be scored again; nothing is restored retroactively.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Text, cast, delete, select, update
from sqlalchemy.orm import Session

from vroegsignaal.errors import ConflictError, DataValidationError, NotFoundError, ValidationFailure
from vroegsignaal.schemas.api import ObjectionCreate, ObjectionPublic, ScoreBatchResponse
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit
from vroegsignaal.service.clock import dutch_today
from vroegsignaal.service.advisory_locks import own_household
from vroegsignaal.service.models import Decision, Household, Objection, ReviewItem, Score, ScoreSubmission
from vroegsignaal.service.scores import STATUS_OPEN, as_objector
from vroegsignaal.service.security import Caller
from vroegsignaal.service.settings import Settings

MSG_ALREADY_OBJECTED = "an active objection for this household is already registered"
MSG_NO_ACTIVE_OBJECTION = "no active objection for this household in your municipality"
MSG_RECEIVED_IN_FUTURE = "must not be after today ({today})"


def objection_public(row: Objection) -> ObjectionPublic:
    return ObjectionPublic(
        household_id=row.household_pseudonym,
        received_on=row.received_on,
        registered_at=row.registered_at,
        withdrawn_at=row.withdrawn_at,
        active=row.withdrawn_at is None,
    )


def _active(session: Session, municipality: str, pseudonym: str) -> Objection | None:
    return session.scalars(
        select(Objection).where(
            Objection.municipality_code == municipality,
            Objection.household_pseudonym == pseudonym,
            Objection.withdrawn_at.is_(None),
        )
    ).first()


def add_objection(
    session: Session, *, request: ObjectionCreate, caller: Caller, settings: Settings, now: dt.datetime
) -> ObjectionPublic:
    """Register an objection: stop scoring, erase scores, move open items to the standard approach."""
    municipality = caller.municipality_or_raise()
    pseudonym = request.household_id
    today = dutch_today(now)
    if request.received_on > today:
        raise DataValidationError(
            [ValidationFailure("objection", "received_on", MSG_RECEIVED_IN_FUTURE.format(today=today), 1,
                               examples=(request.received_on,))],
            summary="objection refused",
        )
    with session.begin():
        # Scoring requests of this household in flight commit first; those after it see the objection.
        own_household(session.connection(), municipality, pseudonym)
        if _active(session, municipality, pseudonym) is not None:
            raise ConflictError(MSG_ALREADY_OBJECTED)
        row = Objection(
            municipality_code=municipality,
            household_pseudonym=pseudonym,
            received_on=request.received_on,
            registered_at=now,
            registered_by=caller.subject,
        )
        session.add(row)
        # The household's row locked, as a decision locks it before its case: a decision being recorded commits
        # first and its copy of the score is erased below, or it waits and sees the objection (PostgreSQL).
        household_id = session.scalar(
            select(Household.id)
            .where(Household.municipality_code == municipality, Household.household_pseudonym == pseudonym)
            .with_for_update()
        )
        erased = 0
        if household_id is not None:
            # In the order a retention purge takes these rows (stored answers, decisions, review items, scores), so
            # the two never wait for each other in a circle (PostgreSQL).
            _erase_from_stored_responses(session, municipality, pseudonym, settings=settings)
            # Decisions keep a copy of the score they were made on: erased as well, with what the score decided
            # when the model ordered the case: the suggested first contact (the risk band under another name), the
            # position in the list, and whether the caseworker departed from them (beside the contact chosen, "did
            # not depart" tells the advice again).
            session.execute(
                update(Decision)
                .where(Decision.household_id == household_id)
                .values(score=None, band=None, model_version=None)
            )
            session.execute(
                update(Decision)
                .where(Decision.household_id == household_id, Decision.approach == "model")
                .values(suggested_intensity=None, rank_at_decision=None, departed_intensity=None, departed_order=None)
            )
            session.execute(
                update(ReviewItem)
                .where(ReviewItem.household_id == household_id, ReviewItem.status == STATUS_OPEN)
                .values(
                    approach="standard",
                    standard_reason="objection",
                    score_id=None,
                    control_sample=False,  # they chose the standard approach: not a random draw any more
                    suggested_intensity=settings.standard_intensity.value,
                    updated_at=now,
                )
            )
            # Closed items let go of their scores here rather than through the foreign key when the scores go, and
            # of the model's advice.
            session.execute(
                update(ReviewItem)
                .where(ReviewItem.household_id == household_id, ReviewItem.score_id.is_not(None))
                .values(score_id=None)
            )
            session.execute(
                update(ReviewItem)
                .where(ReviewItem.household_id == household_id, ReviewItem.approach == "model")
                .values(suggested_intensity=None)
            )
            erased = session.execute(delete(Score).where(Score.household_id == household_id)).rowcount or 0
        session.flush()
        audit(
            session,
            AuditEntry.by(
                caller,
                municipality_code=municipality,
                action=AuditAction.OBJECTION_ADDED,
                object_id=pseudonym,
                detail={"scores_erased": int(erased)},
            ),
            now=now,
        )
    return objection_public(row)


def _erase_from_stored_responses(session: Session, municipality: str, pseudonym: str, *, settings: Settings) -> None:
    """Stored answers to idempotent scoring requests (what a retry gets back) keep the household's score too: its
    entry is rewritten as the household would be answered now, the standard way and without a score.

    The answers are locked first, in id order: two objections of households of one batch, at once, would otherwise
    each write back their own copy, the second putting back the first household's score."""
    submissions = session.scalars(
        select(ScoreSubmission)
        .where(
            ScoreSubmission.municipality_code == municipality,
            cast(ScoreSubmission.response, Text).contains(f'"{pseudonym}"', autoescape=True),
        )
        .order_by(ScoreSubmission.id)
        .with_for_update()
    )
    for submission in submissions:
        response = ScoreBatchResponse.model_validate(submission.response)
        standard = settings.standard_intensity
        results = [
            as_objector(result, standard_intensity=standard) if result.household_id == pseudonym else result
            for result in response.results
        ]
        submission.response = response.model_copy(update={"results": results}).model_dump(mode="json")


def withdraw_objection(session: Session, *, pseudonym: str, caller: Caller, now: dt.datetime) -> ObjectionPublic:
    """Withdraw the active objection; later signals are scored again."""
    municipality = caller.municipality_or_raise()
    with session.begin():
        row = _active(session, municipality, pseudonym)
        if row is None:
            raise NotFoundError(MSG_NO_ACTIVE_OBJECTION)
        row.withdrawn_at, row.withdrawn_by = now, caller.subject
        audit(
            session,
            AuditEntry.by(
                caller,
                municipality_code=municipality,
                action=AuditAction.OBJECTION_WITHDRAWN,
                object_id=pseudonym,
            ),
            now=now,
        )
    return objection_public(row)


def list_objections(session: Session, *, caller: Caller, include_withdrawn: bool) -> list[ObjectionPublic]:
    municipality = caller.municipality_or_raise()
    query = select(Objection).where(Objection.municipality_code == municipality)
    if not include_withdrawn:
        query = query.where(Objection.withdrawn_at.is_(None))
    with session.begin():
        rows = session.scalars(query.order_by(Objection.registered_at, Objection.id)).all()
    return [objection_public(row) for row in rows]
