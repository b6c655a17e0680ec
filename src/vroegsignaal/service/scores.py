"""Scoring a batch: record the signals, score and explain, put every household on the review queue, audit it all.

One transaction per request: either every household of the batch is recorded, scored, queued and audited, or
nothing is. No signal is dropped: every household gets an open review item (a new signal updates the open item of
a household instead of opening a second one). Households that objected (GDPR art. 21) are recorded but never
scored; they get the standard approach. With an ``Idempotency-Key`` a retry returns the stored response and writes
nothing; without one, a repeated signal id with the same content is recorded once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vroegsignaal.errors import (
    ConflictError,
    DataValidationError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ValidationFailure,
)
from vroegsignaal.schemas.api import (
    HouseholdScoreCreate,
    HouseholdScorePublic,
    Reason,
    ReviewFlagPublic,
    ScoreBatchRequest,
    ScoreBatchResponse,
    StandardReason,
)
from vroegsignaal.schemas.enums import ContactIntensity, ReviewFlag
from vroegsignaal.schemas.tables import HouseholdSchema, SignalSchema
from vroegsignaal.service.audit import AuditAction, AuditEntry, append_audit_records, input_hash
from vroegsignaal.service.control_sample import in_control_sample, sample_period
from vroegsignaal.service.deadlines import first_contact_deadline
from vroegsignaal.service.models import Decision, Household, Objection, ReviewItem, Score, ScoreSubmission, Signal
from vroegsignaal.service.queue import (
    SignalFacts,
    cooldown_hold,
    recent_flags,
    review_flags,
    total_arrears,
)
from vroegsignaal.service.runtime import FeatureBuilder, LoadedModel
from vroegsignaal.service.security import Caller
from vroegsignaal.service.settings import Settings
from vroegsignaal.service.switches import current_ordering

MSG_OTHER_MUNICIPALITY = "field 'municipality_code': {value!r} is not the municipality of your token"
MSG_IDEMPOTENCY_REUSED = "Idempotency-Key was already used for a different request body; use a new key"
MSG_SIGNAL_CONFLICT = (
    "field 'households.{position}.signals.{index}.signal_id': signal {signal_id!r} was already received with other "
    "content (or for another household); send a new signal_id for a corrected signal"
)
MSG_NO_MODEL = (
    "no approved model is loaded; an admin can promote an approved version and reload, or switch to the "
    "rule-based order"
)
MSG_NO_TEAM = "households.{position}.team is required: your token has no team"
MSG_FUTURE_DATE = "must not be after {limit} (today or the reference date)"
CHECK_NOT_IN_FUTURE = "not_after_reference_date"
TABLE_REQUEST = "request"
STATUS_OPEN = "open"


@dataclass(frozen=True)
class ScoringContext:
    """Everything a scoring request needs besides its body and its database session."""

    settings: Settings
    model: LoadedModel | None
    build_features: FeatureBuilder
    now: dt.datetime


@dataclass(frozen=True)
class ScoredBatch:
    """The response and what the route reports to the metrics."""

    response: ScoreBatchResponse
    bands: tuple[str, ...]
    replayed: bool


@dataclass
class _Prepared:
    """One household of the batch on its way through the pipeline."""

    position: int
    request: HouseholdScoreCreate
    team: str
    household_pk: int = 0
    objected: bool = False
    signals: tuple[SignalFacts, ...] = ()
    scored: Mapping[str, Any] | None = None
    score_id: int | None = None


def score_batch(
    session: Session,
    *,
    request: ScoreBatchRequest,
    caller: Caller,
    context: ScoringContext,
    idempotency_key: str | None = None,
) -> ScoredBatch:
    """Record, score, queue and audit a batch in one transaction (see the module docstring)."""
    municipality = caller.municipality_or_raise()
    if request.municipality_code != municipality:
        raise PermissionDeniedError(MSG_OTHER_MUNICIPALITY.format(value=request.municipality_code))
    today = context.now.date()
    reference = request.reference_date or today
    _check_dates(request, reference=reference, today=today)
    prepared = [
        _Prepared(position, household, _team_or_raise(household, caller, position))
        for position, household in enumerate(request.households)
    ]
    payload = request.model_dump(mode="json")
    request_hash = input_hash(payload)
    with session.begin():
        if idempotency_key is not None:
            stored = _stored_submission(session, municipality, idempotency_key, request_hash)
            if stored is not None:
                return ScoredBatch(stored, (), replayed=True)
        ordering, _ = current_ordering(session)
        use_model = ordering == "model"
        if use_model and context.model is None:
            raise ServiceUnavailableError(MSG_NO_MODEL)
        now = context.now
        _mark_objections(session, municipality, prepared)
        _upsert_households(session, municipality, prepared, now=now)
        _insert_new_signals(session, municipality, prepared, now=now)
        _load_signal_facts(session, prepared)
        model = context.model if use_model else None
        to_score = [p for p in prepared if model is not None and not p.objected]
        if model is not None and to_score:
            _score(to_score, model=model, build_features=context.build_features, reference=reference)
            _insert_scores(session, to_score, model_version=model.version, reference=reference, now=now)
        results = _queue(session, municipality, prepared, context=context, reference=reference, model=model)
        response = ScoreBatchResponse(
            model_version=model.version if model is not None else None, ordering=ordering, results=results
        )
        append_audit_records(
            session, _audit_entries(prepared, caller, municipality, payload, model=model), now=now
        )
        if idempotency_key is not None:
            session.add(
                ScoreSubmission(
                    municipality_code=municipality,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    response=response.model_dump(mode="json"),
                    created_at=now,
                )
            )
    bands = tuple(str(p.scored["band"]) for p in prepared if p.scored is not None)
    return ScoredBatch(response, bands, replayed=False)


def _check_dates(request: ScoreBatchRequest, *, reference: dt.date, today: dt.date) -> None:
    failures: list[ValidationFailure] = []
    limit = min(reference, today)
    if reference > today:
        failures.append(ValidationFailure(TABLE_REQUEST, "reference_date", MSG_FUTURE_DATE.format(limit=today), 1))
    for position, household in enumerate(request.households):
        for index, signal in enumerate(household.signals):
            if signal.signal_date > limit:
                failures.append(
                    ValidationFailure(
                        TABLE_REQUEST,
                        f"households.{position}.signals.{index}.signal_date",
                        MSG_FUTURE_DATE.format(limit=limit),
                        1,
                        examples=(signal.signal_date.isoformat(),),
                    )
                )
    if failures:
        raise DataValidationError(failures, summary="scoring request refused")


def _team_or_raise(household: HouseholdScoreCreate, caller: Caller, position: int) -> str:
    team = household.team or caller.team
    if team is None:
        raise DataValidationError(
            [ValidationFailure(TABLE_REQUEST, f"households.{position}.team", "required", 1)],
            summary=MSG_NO_TEAM.format(position=position),
        )
    return team


def _stored_submission(
    session: Session, municipality: str, key: str, request_hash: str
) -> ScoreBatchResponse | None:
    stored = session.scalars(
        select(ScoreSubmission).where(
            ScoreSubmission.municipality_code == municipality, ScoreSubmission.idempotency_key == key
        )
    ).first()
    if stored is None:
        return None
    if stored.request_hash != request_hash:
        raise ConflictError(MSG_IDEMPOTENCY_REUSED)
    return ScoreBatchResponse.model_validate(stored.response)


def _mark_objections(session: Session, municipality: str, prepared: Sequence[_Prepared]) -> None:
    pseudonyms = [p.request.household_id for p in prepared]
    objected = set(
        session.scalars(
            select(Objection.household_pseudonym).where(
                Objection.municipality_code == municipality,
                Objection.household_pseudonym.in_(pseudonyms),
                Objection.withdrawn_at.is_(None),
            )
        )
    )
    for p in prepared:
        p.objected = p.request.household_id in objected


def _dialect_insert(session: Session):  # noqa: ANN202 - returns the dialect's Insert construct
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _upsert_households(session: Session, municipality: str, prepared: Sequence[_Prepared], *, now: dt.datetime) -> None:
    rows = [
        {
            "municipality_code": municipality,
            "household_pseudonym": p.request.household_id,
            "team": p.team,
            "neighbourhood": p.request.neighbourhood,
            **p.request.facts.model_dump(mode="json"),
            "first_seen_at": now,
            "updated_at": now,
        }
        for p in prepared
    ]
    statement = _dialect_insert(session)(Household).values(rows)
    # In PostgreSQL the upsert locks each household row until commit, so two requests for one household queue up.
    statement = statement.on_conflict_do_update(
        index_elements=[Household.municipality_code, Household.household_pseudonym],
        set_={
            **{column: statement.excluded[column] for column in ("team", *HOUSEHOLD_FACT_COLUMNS, "updated_at")},
            # A batch that does not name the neighbourhood keeps the one stored.
            "neighbourhood": func.coalesce(statement.excluded["neighbourhood"], Household.neighbourhood),
        },
    ).returning(Household.id, Household.household_pseudonym)
    ids = {row.household_pseudonym: row.id for row in session.execute(statement)}
    for p in prepared:
        p.household_pk = ids[p.request.household_id]


HOUSEHOLD_FACT_COLUMNS: tuple[str, ...] = (
    HouseholdSchema.household_type,
    HouseholdSchema.benefit_type,
    HouseholdSchema.municipal_tax_arrears_eur,
    HouseholdSchema.municipal_tax_remission,
    HouseholdSchema.prior_debt_assistance,
    HouseholdSchema.recent_move,
)
_SIGNAL_CONTENT = (
    SignalSchema.partner_type,
    SignalSchema.amount_eur,
    SignalSchema.arrears_start_date,
    SignalSchema.signal_date,
    SignalSchema.crisis,
    SignalSchema.warm_handover,
    SignalSchema.end_of_supply,
)


def _insert_new_signals(session: Session, municipality: str, prepared: Sequence[_Prepared], *, now: dt.datetime) -> None:
    incoming: dict[str, tuple[_Prepared, int, dict[str, Any]]] = {}
    for p in prepared:
        for index, signal in enumerate(p.request.signals):
            content = signal.model_dump(mode="python")
            content[SignalSchema.partner_type] = signal.partner_type.value
            incoming[signal.signal_id] = (p, index, content)
    existing = session.execute(
        select(Signal).where(Signal.municipality_code == municipality, Signal.signal_ref.in_(list(incoming)))
    ).scalars()
    already = set()
    for stored in existing:
        p, index, content = incoming[stored.signal_ref]
        same = stored.household_id == p.household_pk and all(
            getattr(stored, column) == content[column] for column in _SIGNAL_CONTENT
        )
        if not same:
            raise ConflictError(
                MSG_SIGNAL_CONFLICT.format(position=p.position, index=index, signal_id=stored.signal_ref)
            )
        already.add(stored.signal_ref)
    rows = [
        {
            "household_id": p.household_pk,
            "municipality_code": municipality,
            "signal_ref": signal_id,
            **{column: content[column] for column in _SIGNAL_CONTENT},
            "received_at": now,
        }
        for signal_id, (p, _index, content) in incoming.items()
        if signal_id not in already
    ]
    if rows:
        session.execute(insert(Signal), rows)


def _load_signal_facts(session: Session, prepared: Sequence[_Prepared]) -> None:
    by_household: dict[int, list[SignalFacts]] = defaultdict(list)
    rows = session.execute(
        select(
            Signal.household_id,
            Signal.partner_type,
            Signal.amount_eur,
            Signal.arrears_start_date,
            Signal.signal_date,
            Signal.crisis,
            Signal.end_of_supply,
        ).where(Signal.household_id.in_([p.household_pk for p in prepared]))
    )
    for row in rows:
        by_household[row.household_id].append(
            SignalFacts(
                row.partner_type, row.amount_eur, row.arrears_start_date, row.signal_date, row.crisis, row.end_of_supply
            )
        )
    for p in prepared:
        p.signals = tuple(by_household[p.household_pk])


def _score(
    to_score: Sequence[_Prepared], *, model: LoadedModel, build_features: FeatureBuilder, reference: dt.date
) -> None:
    records = [
        build_features(
            [dataclasses.asdict(signal) for signal in p.signals], p.request.facts.model_dump(), reference
        )
        for p in to_score
    ]
    for p, scored in zip(to_score, model.scorer.score_records(records, explain=True), strict=True):
        p.scored = scored.to_dict()


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def plain_reasons(reasons: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Reasons as JSON-safe dicts (the scorer may hand numpy scalars)."""
    return [{key: _plain(value) for key, value in reason.items()} for reason in reasons or ()]


def _insert_scores(
    session: Session, to_score: Sequence[_Prepared], *, model_version: str, reference: dt.date, now: dt.datetime
) -> None:
    rows = [
        {
            "household_id": p.household_pk,
            "model_version": model_version,
            "reference_date": reference,
            "score": float(p.scored["score"]),
            "band": str(p.scored["band"]),
            "intensity": str(p.scored["intensity"]),
            "uncertain": bool(p.scored["uncertain"]),
            "out_of_distribution": [str(name) for name in p.scored["out_of_distribution"]],
            "flags": [str(flag) for flag in p.scored["flags"]],
            "reasons": plain_reasons(p.scored["reasons"]),
            "scored_at": now,
        }
        for p in to_score
        if p.scored is not None
    ]
    ids = session.scalars(insert(Score).returning(Score.id, sort_by_parameter_order=True), rows).all()
    for p, score_id in zip(to_score, ids, strict=True):
        p.score_id = score_id


def _last_contacts(session: Session, household_pks: Sequence[int], *, since: dt.date) -> dict[int, tuple[dt.date, float]]:
    """Per household: the latest contact date within the cooldown and the arrears at that decision."""
    latest = (
        select(Decision.household_id, func.max(Decision.last_contact_on).label("last_contact_on"))
        .where(Decision.household_id.in_(household_pks), Decision.last_contact_on >= since)
        .group_by(Decision.household_id)
        .subquery()
    )
    rows = session.execute(
        select(Decision.household_id, Decision.last_contact_on, func.max(Decision.total_arrears_eur))
        .join(
            latest,
            (latest.c.household_id == Decision.household_id) & (latest.c.last_contact_on == Decision.last_contact_on),
        )
        .group_by(Decision.household_id, Decision.last_contact_on)
    )
    return {row[0]: (row[1], float(row[2])) for row in rows}


def _queue(
    session: Session,
    municipality: str,
    prepared: Sequence[_Prepared],
    *,
    context: ScoringContext,
    reference: dt.date,
    model: LoadedModel | None,
) -> list[HouseholdScorePublic]:
    settings, now = context.settings, context.now
    today = now.date()
    pks = [p.household_pk for p in prepared]
    open_items = {
        item.household_id: item
        for item in session.scalars(
            select(ReviewItem).where(ReviewItem.household_id.in_(pks), ReviewItem.status == STATUS_OPEN)
        )
    }
    contacts = _last_contacts(session, pks, since=today - dt.timedelta(days=settings.cooldown_days))
    key = settings.control_sample_key.get_secret_value().encode()
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []
    for p in prepared:
        crisis, end_of_supply = recent_flags(p.signals, reference=reference)
        arrears = total_arrears(p.signals, reference=reference)
        existing = open_items.get(p.household_pk)
        control = (
            existing.control_sample
            if existing is not None
            else in_control_sample(
                key=key,
                municipality=municipality,
                household=p.request.household_id,
                period=sample_period(today),
                rate=settings.control_sample_rate,
            )
        )
        standard_reason: StandardReason | None = (
            "objection" if p.objected else "rule_order" if p.scored is None else "control_sample" if control else None
        )
        intensity = (
            settings.standard_intensity.value if standard_reason is not None else str(p.scored["intensity"])
        )
        last_contact = contacts.get(p.household_pk)
        held_until = cooldown_hold(
            last_contact_on=last_contact[0] if last_contact else None,
            arrears_at_contact=last_contact[1] if last_contact else None,
            arrears_now=arrears,
            cooldown_days=settings.cooldown_days,
            today=today,
        )
        urgent = crisis or end_of_supply or (existing is not None and (existing.crisis or existing.end_of_supply))
        received_on = held_until or today
        deadline = first_contact_deadline(
            received_on,
            urgent=urgent,
            calendar_days=settings.first_contact_days,
            urgent_working_days=settings.urgent_contact_working_days,
        )
        if existing is not None:
            deadline = min(deadline, existing.deadline)
        first_signal = min(s.signal_date for s in p.signals)
        values = {
            "team": p.team,
            "approach": "standard" if standard_reason is not None else "model",
            "standard_reason": standard_reason,
            "score_id": p.score_id,
            "control_sample": control,
            "crisis": crisis or (existing is not None and existing.crisis),
            "end_of_supply": end_of_supply or (existing is not None and existing.end_of_supply),
            "suggested_intensity": intensity,
            "total_arrears_eur": arrears,
            "first_signal_date": first_signal,
            "deadline": deadline,
            "held_until": held_until,
            "updated_at": now,
        }
        if existing is not None:
            updates.append({"id": existing.id, **values})
        else:
            new_rows.append(
                {
                    "household_id": p.household_pk,
                    "municipality_code": municipality,
                    "status": STATUS_OPEN,
                    "received_on": today,
                    "created_at": now,
                    "closed_at": None,
                    **values,
                }
            )
        plans.append({"prepared": p, "existing": existing, **values})
    if updates:
        session.execute(update(ReviewItem), updates)
    new_ids = iter(
        session.scalars(insert(ReviewItem).returning(ReviewItem.id, sort_by_parameter_order=True), new_rows).all()
        if new_rows
        else ()
    )
    results = []
    for plan in plans:
        item_id = plan["existing"].id if plan["existing"] is not None else next(new_ids)
        results.append(_result(plan, item_id, model=model))
    return results


def _result(plan: Mapping[str, Any], item_id: int, *, model: LoadedModel | None) -> HouseholdScorePublic:
    p: _Prepared = plan["prepared"]
    scored = p.scored
    flags = review_flags(
        scorer_flags=[str(f) for f in scored["flags"]] if scored is not None else [],
        crisis=plan["crisis"],
        end_of_supply=plan["end_of_supply"],
        control_sample=plan["control_sample"],
    )
    ood = [str(name) for name in scored["out_of_distribution"]] if scored is not None else []
    return HouseholdScorePublic(
        household_id=p.request.household_id,
        review_item_id=item_id,
        approach=plan["approach"],
        standard_reason=plan["standard_reason"],
        score=float(scored["score"]) if scored is not None else None,
        risk_band=str(scored["band"]) if scored is not None else None,
        suggested_intensity=ContactIntensity(plan["suggested_intensity"]),
        reasons=[Reason(**reason) for reason in plain_reasons(scored["reasons"])] if scored is not None else [],
        review_flags=[flag_public(flag, ood=ood) for flag in flags],
        model_version=model.version if scored is not None and model is not None else None,
        control_sample=plan["control_sample"],
        deadline=plan["deadline"],
        held_back_until=plan["held_until"],
    )


def flag_public(flag: str, *, ood: Sequence[str] = ()) -> ReviewFlagPublic:
    """A review flag with its Dutch and English label (and the features for an out-of-distribution flag)."""
    member = ReviewFlag(flag)
    detail = ", ".join(ood) if member is ReviewFlag.OUT_OF_DISTRIBUTION and ood else None
    return ReviewFlagPublic(flag=member, label_nl=member.nl, label_en=member.en, detail=detail)


def _audit_entries(
    prepared: Sequence[_Prepared],
    caller: Caller,
    municipality: str,
    payload: Mapping[str, Any],
    *,
    model: LoadedModel | None,
) -> list[AuditEntry]:
    entries = []
    for p, household_payload in zip(prepared, payload["households"], strict=True):
        entries.append(
            AuditEntry(
                actor=caller.subject,
                role=caller.role.value,
                municipality_code=municipality,
                action=AuditAction.SCORE if p.scored is not None else AuditAction.SIGNALS_RECEIVED_STANDARD,
                object_id=p.request.household_id,
                model_version=model.version if p.scored is not None and model is not None else None,
                input_hash=input_hash(household_payload),
                detail={"signals": len(p.request.signals), "objected": p.objected},
            )
        )
    return entries
