"""Review decisions: what the caseworker did (contact attempts), how the case ended, and whether that departed from
the advice.

A decision closes its review item. Departing from the suggested intensity, or deciding on an item further down the
list than the team's order tolerance, requires a reason: oversight reports the departure rate per team. A retry of
the same decision returns the recorded one (idempotent); a different decision on a closed item is a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from vroegsignaal.errors import ConflictError, DataValidationError, NotFoundError, ValidationFailure
from vroegsignaal.schemas.api import ContactAttemptCreate, ContactAttemptPublic, DecisionCreate, DecisionPublic
from vroegsignaal.schemas.enums import ContactKind, EndResult
from vroegsignaal.schemas.tables import HOUSEHOLD_FACT_COLUMNS
from vroegsignaal.service.audit import AuditAction, AuditEntry, audit, input_hash
from vroegsignaal.service.clock import dutch_today
from vroegsignaal.service.models import ContactAttempt, Decision, Household, ReviewItem, Score
from vroegsignaal.service.outreach import load_queue
from vroegsignaal.service.queue import advice_for
from vroegsignaal.service.scores import STATUS_OPEN
from vroegsignaal.service.security import Caller
from vroegsignaal.service.settings import Settings
from vroegsignaal.service.switches import current_ordering

MSG_UNKNOWN_ITEM = "review item {item_id} does not exist"
MSG_ALREADY_DECIDED = "review item {item_id} was already decided with a different decision"
MSG_CASE_CHANGED = (
    "field 'case_updated_at': review item {item_id} changed at {updated_at} after the version you saw "
    "({seen}): a new signal, a correction, an objection, withdrawn advice, a switched order or a retention purge; "
    "look at the case again and send the decision with its new updated_at"
)
MSG_REASON_REQUIRED = "field 'departure_reason' is required: {why}"
MSG_INTENSITY_DEPARTS = "chosen_intensity {chosen!r} departs from the suggested {suggested!r}"
MSG_ORDER_DEPARTS = "the item is at position {rank} of the list, beyond the order tolerance of {tolerance}"
MSG_HELD_BACK_DEPARTS = "the household is held back by the cooldown until {until}"
MSG_ATTEMPT_IN_FUTURE = "must not be after today ({today})"
MSG_ATTEMPT_BEFORE_CASE = "must not be before the case began ({first}: its first signal, or the day it came in)"
MSG_RESULT_CONTRADICTS_CONTACT = (
    "end_result {result!r} says the resident was not reached, but contact attempt {index} reached them; choose "
    "another end result or correct the attempt"
)
MSG_RESULT_NEEDS_CONTACT = (
    "end_result {result!r} says the resident was spoken to, but no contact attempt reached them; add the attempt "
    "that did (reached, and not administrative) or choose another end result"
)
MSG_RESULT_NEEDS_ATTEMPT = (
    "end_result {result!r} says the resident could not be reached, but no contact attempt tried to reach them "
    "(an administrative step does not); add the attempts made or choose another end result"
)
#: End results that say nobody reached the resident: a decision with a reached attempt contradicts them.
RESULTS_WITHOUT_CONTACT = frozenset({EndResult.NO_CONTACT_POSSIBLE, EndResult.REFERRAL_WITHOUT_CONTACT})
#: End results that say the resident could not be reached though someone tried (DDAS "geen contact mogelijk"): a
#: decision needs an attempt to reach them. Closing a case as unreachable without one would leave a household in
#: need without the offer of help the law requires (DESIGN, "Harm runs both ways").
RESULTS_AFTER_TRYING = frozenset({EndResult.NO_CONTACT_POSSIBLE})
#: End results that only contact with the resident can give (a conversation, or "no response after contact": reached,
#: then silent): a decision needs the attempt that reached them. Without it the oversight report would count a
#: household as not reached, and the export would leave out its label (only reached households get one), though
#: the caseworker did speak with them.
RESULTS_AFTER_CONTACT = frozenset(
    {
        EndResult.DECLINES_HELP,
        EndResult.ADVICE_QUICK_FIX,
        EndResult.FINANCIAL_FOLLOW_UP,
        EndResult.NON_FINANCIAL_FOLLOW_UP,
        EndResult.NO_RESPONSE_AFTER_CONTACT,
    }
)
CHECK_REASON_REQUIRED = "departure_reason_required"
STATUS_CLOSED = "closed"


class CaseChangedError(ConflictError):
    """The case changed after the version the caseworker decided on (``case_updated_at``)."""


def _visible_item_or_raise(session: Session, *, item_id: int, caller: Caller) -> ReviewItem:
    """The review item if it belongs to the caller's municipality and team; otherwise 404 (never 403, so the
    existence of another municipality's item does not leak)."""
    # The household first, then the item: the order a scoring request locks them in (its upsert, then the item),
    # so a new signal arriving meanwhile waits for the decision and opens a new case (or goes first, and the
    # decision is made on the case it updated), and neither waits for the other in a circle (PostgreSQL).
    household_id = session.scalar(select(ReviewItem.household_id).where(ReviewItem.id == item_id))
    if household_id is not None:
        session.execute(select(Household.id).where(Household.id == household_id).with_for_update())
    item = session.get(ReviewItem, item_id, with_for_update=True, populate_existing=True)
    if item is None or item.municipality_code != caller.municipality or (
        caller.team is not None and item.team != caller.team
    ):
        raise NotFoundError(MSG_UNKNOWN_ITEM.format(item_id=item_id))
    return item


def _check_attempts(request: DecisionCreate, *, first_signal: dt.date, today: dt.date) -> None:
    """Each attempt dated within the case (from its first signal up to today), and the end result in keeping with
    them (:func:`_end_result_failures`): an attempt outside the case would start no cooldown, or one from the wrong
    date."""
    failures = []
    for index, attempt in enumerate(request.contact_attempts):
        field = f"contact_attempts.{index}.attempted_on"
        if attempt.attempted_on > today:
            rule = MSG_ATTEMPT_IN_FUTURE.format(today=today)
        elif attempt.attempted_on < first_signal:
            rule = MSG_ATTEMPT_BEFORE_CASE.format(first=first_signal)
        else:
            continue
        failures.append(ValidationFailure("decision", field, rule, 1, examples=(attempt.attempted_on,)))
    failures.extend(_end_result_failures(request))
    if failures:
        raise DataValidationError(failures, summary="decision refused")


def _end_result_failures(request: DecisionCreate) -> list[ValidationFailure]:
    """The end result against the attempts: one that says the resident could not be reached needs an attempt to
    reach them, one that says they were reached needs the attempt that did, one that says nobody reached them is
    contradicted by each attempt that did."""
    result = request.end_result
    reached = [index for index, attempt in enumerate(request.contact_attempts) if counts_as_contact(attempt)]
    tried = any(attempt.kind is not ContactKind.ADMINISTRATIVE for attempt in request.contact_attempts)
    rules = []
    if result in RESULTS_AFTER_TRYING and not tried:
        rules.append(MSG_RESULT_NEEDS_ATTEMPT.format(result=result.value))
    if result in RESULTS_AFTER_CONTACT and not reached:
        rules.append(MSG_RESULT_NEEDS_CONTACT.format(result=result.value))
    if result in RESULTS_WITHOUT_CONTACT:
        rules.extend(MSG_RESULT_CONTRADICTS_CONTACT.format(result=result.value, index=index) for index in reached)
    return [ValidationFailure("decision", "end_result", rule, 1, examples=(result.value,)) for rule in rules]


def counts_as_contact(attempt: ContactAttemptCreate) -> bool:
    """Whether an attempt starts the cooldown: it reached the resident, and was more than paperwork. A letter nobody
    answered is no contact, and holding such a household back would risk missing one in need (DESIGN, "Harm runs
    both ways"). The same rule in SQL, for stored attempts: :data:`~vroegsignaal.service.models.REACHED_RESIDENT`."""
    return attempt.reached and attempt.kind is not ContactKind.ADMINISTRATIVE


def _departures(
    request: DecisionCreate, item: ReviewItem, *, suggested: str, rank: int | None, tolerance: int, today: dt.date
) -> tuple[bool, bool, list[str]]:
    why: list[str] = []
    departed_intensity = request.chosen_intensity.value != suggested
    if departed_intensity:
        why.append(MSG_INTENSITY_DEPARTS.format(chosen=request.chosen_intensity.value, suggested=suggested))
    held = item.held_until is not None and item.held_until > today
    departed_order = held or (rank is not None and rank > tolerance)
    if held:
        why.append(MSG_HELD_BACK_DEPARTS.format(until=item.held_until))
    elif departed_order:
        why.append(MSG_ORDER_DEPARTS.format(rank=rank, tolerance=tolerance))
    return departed_intensity, departed_order, why


def record_decision(
    session: Session,
    *,
    item_id: int,
    request: DecisionCreate,
    caller: Caller,
    settings: Settings,
    now: dt.datetime,
) -> tuple[DecisionPublic, bool]:
    """Record a decision and close the item; returns the decision and whether it was newly created."""
    today = dutch_today(now)
    # case_updated_at is a precondition, not part of the decision: a retry without it (or decided before it existed)
    # is the same decision.
    request_hash = input_hash(request.model_dump(mode="json", exclude={"case_updated_at"}))
    with session.begin():
        item = _visible_item_or_raise(session, item_id=item_id, caller=caller)
        if item.status != STATUS_OPEN:
            existing = session.scalars(select(Decision).where(Decision.review_item_id == item.id)).first()
            if existing is not None and existing.request_hash == request_hash:
                return decisions_public(session, [existing])[0], False
            raise ConflictError(MSG_ALREADY_DECIDED.format(item_id=item_id))
        seen = request.case_updated_at
        if seen is not None and seen != item.updated_at:
            raise CaseChangedError(
                MSG_CASE_CHANGED.format(item_id=item_id, updated_at=item.updated_at.isoformat(), seen=seen.isoformat())
            )
        # The case began with its first signal, or the day it came in when a correction has since dated every
        # signal later: a caseworker who called on the signals as first sent made a real attempt of this case.
        _check_attempts(request, first_signal=min(item.first_signal_date, item.received_on), today=today)
        ordering, _ = current_ordering(session, item.municipality_code)
        view = load_queue(
            session, municipality=item.municipality_code, team=item.team, today=today, ordering=ordering,
            settings=settings,
        )
        rank = view.rank_of(item.id)
        advice = advice_for(
            approach=item.approach, standard_reason=item.standard_reason, suggested_intensity=item.suggested_intensity,
            ordering=ordering, standard_intensity=settings.standard_intensity.value,
        )
        departed_intensity, departed_order, why = _departures(
            request, item, suggested=advice.suggested_intensity, rank=rank, tolerance=settings.order_tolerance,
            today=today,
        )
        reason = (request.departure_reason or "").strip() or None
        if why and reason is None:
            raise DataValidationError(
                [ValidationFailure("decision", "departure_reason", CHECK_REASON_REQUIRED, 1)],
                summary=MSG_REASON_REQUIRED.format(why="; ".join(why)),
            )
        score = session.get(Score, item.score_id) if item.score_id is not None else None
        household = session.scalars(select(Household).where(Household.id == item.household_id)).one()
        pseudonym = household.household_pseudonym
        reached_on = [attempt.attempted_on for attempt in request.contact_attempts if counts_as_contact(attempt)]
        decision = Decision(
            review_item_id=item.id,
            household_id=item.household_id,
            municipality_code=item.municipality_code,
            team=item.team,
            decided_by=caller.subject,
            decided_at=now,
            end_result=request.end_result.value,
            suggested_intensity=advice.suggested_intensity,
            chosen_intensity=request.chosen_intensity.value,
            rank_at_decision=rank,
            departed_intensity=departed_intensity,
            departed_order=departed_order,
            departure_reason=reason,
            control_sample=item.control_sample,
            approach=advice.approach,
            ordering=ordering,
            model_version=score.model_version if score is not None else None,
            score=score.score if score is not None else None,
            band=score.band if score is not None else None,
            reference_date=(
                score.reference_date if score is not None else item.reference_date or item.received_on
            ),
            total_arrears_eur=item.total_arrears_eur,
            last_contact_on=max(reached_on) if reached_on else None,
            request_hash=request_hash,
            household_facts={column: getattr(household, column) for column in HOUSEHOLD_FACT_COLUMNS},
        )
        session.add(decision)
        session.flush()
        if request.contact_attempts:
            session.execute(
                insert(ContactAttempt),
                [
                    {"decision_id": decision.id, **attempt.model_dump(mode="python"),
                     "kind": attempt.kind.value, "part_of_day": attempt.part_of_day.value}
                    for attempt in request.contact_attempts
                ],
            )
        # The item keeps the advice it was decided on (under the rule order: the standard one), for its history.
        item.approach, item.standard_reason, item.suggested_intensity = (
            advice.approach, advice.standard_reason, advice.suggested_intensity
        )
        item.status, item.closed_at, item.updated_at = STATUS_CLOSED, now, now
        audit(
            session,
            AuditEntry.by(
                caller,
                municipality_code=item.municipality_code,
                action=AuditAction.DECISION,
                object_id=pseudonym,
                model_version=decision.model_version,
                input_hash=request_hash,
                detail={
                    "review_item_id": item.id,
                    "end_result": decision.end_result,
                    "departed_intensity": departed_intensity,
                    "departed_order": departed_order,
                },
            ),
            now=now,
        )
        public = decisions_public(session, [decision], pseudonyms={item.household_id: pseudonym})[0]
    return public, True


def decisions_public(
    session: Session, decisions: Sequence[Decision], *, pseudonyms: dict[int, str] | None = None
) -> list[DecisionPublic]:
    """Decisions with their contact attempts (one query for the attempts of all of them)."""
    if not decisions:
        return []
    attempts: dict[int, list[ContactAttemptPublic]] = defaultdict(list)
    for attempt in session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.decision_id.in_([d.id for d in decisions]))
        .order_by(ContactAttempt.attempted_on, ContactAttempt.id)
    ):
        attempts[attempt.decision_id].append(ContactAttemptPublic.model_validate(attempt))
    if pseudonyms is None:
        pseudonyms = dict(
            session.execute(
                select(Household.id, Household.household_pseudonym).where(
                    Household.id.in_({d.household_id for d in decisions})
                )
            ).all()
        )
    return [
        DecisionPublic(
            id=d.id,
            review_item_id=d.review_item_id,
            household_id=pseudonyms[d.household_id],
            team=d.team,
            decided_at=d.decided_at,
            decided_by=d.decided_by,
            end_result=d.end_result,
            suggested_intensity=d.suggested_intensity,
            chosen_intensity=d.chosen_intensity,
            rank_at_decision=d.rank_at_decision,
            departed_intensity=d.departed_intensity,
            departed_order=d.departed_order,
            departure_reason=d.departure_reason,
            control_sample=d.control_sample,
            approach=d.approach,
            model_version=d.model_version,
            contact_attempts=attempts[d.id],
        )
        for d in decisions
    ]
