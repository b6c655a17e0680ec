"""Scoring a batch: record the signals, score and explain, put every household on the review queue, audit it all.

One transaction per request: either every household of the batch is recorded, scored, queued and audited, or
nothing is. No signal is dropped: every household gets an open review item (a new signal updates the open item of
a household instead of opening a second one; signals sent again after their case was closed get that closed case
back, not a second one). Households that objected (GDPR art. 21) are recorded but never
scored; they get the standard approach. With an ``Idempotency-Key`` a retry returns the stored response and writes
nothing; without one, a repeated signal id with the same content is recorded once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine

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
from vroegsignaal.schemas.tables import SignalSchema
from vroegsignaal.service.advisory_locks import share_for_scoring
from vroegsignaal.service.audit import AuditAction, AuditEntry, append_audit_records, input_hash
from vroegsignaal.service.clock import dutch_today
from vroegsignaal.service.control_sample import in_control_sample, sample_period
from vroegsignaal.service.deadlines import first_contact_deadline
from vroegsignaal.service.queue import (
    SignalFacts,
    cooldown_hold,
    review_flags,
    threat_flags,
    total_arrears,
)
from vroegsignaal.service.runtime import FeatureBuilder, LoadedModel
from vroegsignaal.service.score_store import (
    SIGNAL_CONTENT_COLUMNS,
    STATUS_OPEN,
    HouseholdState,
    contact_decisions,
    household_states,
    household_teams,
    insert_review_items,
    insert_scores,
    insert_signals,
    insert_submission,
    latest_cases,
    mark_replaced,
    objecting_households,
    rejected_versions,
    stored_signals,
    stored_submission,
    update_review_items,
    upsert_households,
)
from vroegsignaal.service.security import Caller
from vroegsignaal.service.settings import Settings
from vroegsignaal.service.switches import ordering_and_rejection, ordering_mode

__all__ = [
    "STATUS_OPEN",
    "ScoredBatch",
    "ScoringContext",
    "flag_public",
    "plain_reasons",
    "score_batch",
]

MSG_OTHER_MUNICIPALITY = "field 'municipality_code': {value!r} is not the municipality of your token"
MSG_IDEMPOTENCY_REUSED = "Idempotency-Key was already used for a different request body; use a new key"
# Names the signal by its position in the request: identifiers are never echoed (docs/service.md, "Errors").
MSG_SIGNAL_CONFLICT = (
    "field 'households.{position}.signals.{index}.signal_id': this signal id was already received with other "
    "content (or for another household); send a correction with a new signal_id and replaces_signal_id naming "
    "this one"
)
MSG_REPLACED_SIGNAL_CONFLICT = (
    "field 'households.{position}.signals.{index}.signal_id': this signal was already received with other content "
    "and has been replaced by a correction since; correct the latest correction instead"
)
MSG_NO_MODEL = (
    "no approved model is loaded; an admin can promote an approved version and reload, or switch to the "
    "rule-based order"
)
MSG_MODEL_REJECTED = (
    "the model this replica serves was rejected by an ethics reviewer; an admin can reload it (POST /v1/admin/reload) "
    "to serve the current champion, or switch to the rule-based order"
)
MSG_NO_TEAM = (
    "households.{position}.team is required: your token has no team and the household is not on file with one"
)
MSG_OTHER_TEAM = (
    "households.{position}.team: not your team; a caseworker files households for their own team"
)
MSG_CASE_OF_OTHER_TEAM = (
    "households.{position}: this household's open case is on another team's list; that team, or an admin, handles "
    "its new signals"
)
MSG_HOUSEHOLD_OF_OTHER_TEAM = (
    "households.{position}: this household is on file with another team; that team sends its signals, or an admin, "
    "who can move it to your team"
)
MSG_CLOSED_CASE_OF_OTHER_TEAM = (
    "households.{position}: these signals were handled in another team's case; that team, or an admin, resends them"
)
MSG_FUTURE_DATE = "must not be after {limit} (today or the reference date)"
MSG_REPLACES_UNKNOWN = "names no earlier signal of this household; a correction replaces one sent before"
MSG_REPLACES_REPLACED = "that signal was already replaced by another correction; correct the latest one"
CHECK_NOT_IN_FUTURE = "not_after_reference_date"
TABLE_REQUEST = "request"
#: A household on file without an open review item or a recent contact.
_NOTHING_ON_FILE = HouseholdState(
    objected=False,
    item_id=None,
    item_team=None,
    item_created_at=None,
    first_signal_date=None,
    control_sample=False,
    crisis=False,
    end_of_supply=False,
    deadline=None,
    held_until=None,
    last_contact_on=None,
    arrears_at_contact=None,
)


@dataclass(frozen=True)
class ScoringContext:
    """Everything a scoring request needs besides its body and the database."""

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
    team: str | None
    payload: Mapping[str, Any]
    household_pk: int = 0
    state: HouseholdState = _NOTHING_ON_FILE
    signals: tuple[SignalFacts, ...] = ()
    #: The signals of this request not on file before (a resent one is not new; a correction is, like any signal).
    new_signals: tuple[SignalFacts, ...] = ()
    #: For each of ``new_signals``: the id of the signal it corrects, or ``None``.
    new_replaces: tuple[str | None, ...] = ()
    #: The household's signals on file before this request (rows of ``stored_signals``), replaced ones included.
    on_file: tuple[Any, ...] = ()
    #: A resend (no signal new to the service): the household's case as it stands, open or else the latest closed
    #: one, which holds these signals (a row of ``latest_cases``).
    resent_case: Any | None = None
    scored: Mapping[str, Any] | None = None
    score_id: int | None = None

    @property
    def replaced_refs(self) -> tuple[str, ...]:
        """The ids of the household's signals that this request's corrections replaced (for the audit record)."""
        return tuple(ref for ref in self.new_replaces if ref is not None)

    def in_force(self, row: Any) -> bool:
        """Whether a signal on file still counts after this request: no correction replaced it, before or now."""
        return row.replaced_by_ref is None and row.signal_ref not in self.new_replaces


def score_batch(
    engine: Engine,
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
    now = context.now
    today = dutch_today(now)
    reference = request.reference_date or today
    _check_dates(request, reference=reference, today=today)
    payload = request.model_dump(mode="json")
    prepared = [
        _Prepared(position, household, _team_or_raise(household, caller, position), household_payload)
        for position, (household, household_payload) in enumerate(
            zip(request.households, payload["households"], strict=True)
        )
    ]
    # The request's hash identifies a retry; without an Idempotency-Key there is nothing to compare it with.
    request_hash = input_hash(payload) if idempotency_key is not None else ""
    # A Core transaction rather than an ORM session: nothing here needs the unit of work, and it costs ~40 µs.
    with engine.begin() as connection:
        share_for_scoring(connection, municipality, [p.request.household_id for p in prepared])
        if idempotency_key is not None:
            stored = _stored_response(connection, municipality, idempotency_key, request_hash)
            if stored is not None:
                # A retry passes the checks of a fresh request on whose households these are, and gets no advice
                # the service has stopped giving since (rule-based order, a rejected model).
                _teams_on_file(connection, municipality, caller, prepared)
                stored = _as_answered_now(connection, municipality, stored, settings=context.settings)
                # Served again, so audited again (nothing else is written).
                append_audit_records(connection, _replay_entries(prepared, stored, caller, municipality), now=now)
                return ScoredBatch(stored, (), replayed=True)
        served = context.model.version if context.model is not None else None
        ordering, rejected = ordering_and_rejection(connection, municipality, served)
        use_model = ordering == "model"
        if use_model and (context.model is None or rejected):
            raise ServiceUnavailableError(MSG_MODEL_REJECTED if rejected else MSG_NO_MODEL)
        _teams_on_file(connection, municipality, caller, prepared)
        ids = upsert_households(connection, [_household_row(p, municipality, now=now) for p in prepared])
        for p in prepared:
            p.household_pk = ids[p.request.household_id]
        contacts_since = today - dt.timedelta(days=context.settings.cooldown_days)
        states = household_states(
            connection, household_ids=[p.household_pk for p in prepared], since=contacts_since
        )
        for p in prepared:
            p.state = states.get(p.household_pk, _NOTHING_ON_FILE)
            _keep_with_team_or_raise(p, caller)
        _record_signals(connection, municipality, prepared, now=now, reference=reference)
        _find_resent(connection, prepared)
        for p in prepared:
            _keep_resent_case_with_team_or_raise(p, caller)
        _correct_arrears_at_contact(connection, prepared, since=contacts_since)
        model = context.model if use_model else None
        to_score = [p for p in prepared if model is not None and not p.state.objected and p.resent_case is None]
        if model is not None and to_score:
            _score(to_score, model=model, build_features=context.build_features, reference=reference)
            score_rows = [
                _score_row(p, p.scored, model_version=model.version, reference=reference, now=now)
                for p in to_score
                if p.scored is not None
            ]
            score_ids = insert_scores(connection, score_rows)
            for p in to_score:
                p.score_id = score_ids[p.household_pk]
        results = _queue(
            connection, municipality, prepared, context=context, reference=reference, today=today, model=model
        )
        response = ScoreBatchResponse(
            model_version=model.version if model is not None else None, ordering=ordering, results=results
        )
        append_audit_records(
            connection, _audit_entries(prepared, results, caller, municipality, model=model), now=now
        )
        if idempotency_key is not None:
            insert_submission(
                connection,
                {
                    "municipality_code": municipality,
                    "idempotency_key": idempotency_key,
                    "request_hash": request_hash,
                    "response": response.model_dump(mode="json"),
                    "created_at": now,
                },
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
                        examples=(signal.signal_date,),
                    )
                )
    if failures:
        raise DataValidationError(failures, summary="scoring request refused")


def _team_or_raise(household: HouseholdScoreCreate, caller: Caller, position: int) -> str | None:
    """The team a household is filed for: the request's, else the caller's; ``None`` when neither names one (an
    admin's token has no team): then the household's own team, if it is on file (:func:`_teams_on_file`)."""
    team = household.team or caller.team
    if caller.team is not None and team != caller.team:  # a caseworker works their own team's list
        raise PermissionDeniedError(MSG_OTHER_TEAM.format(position=position))  # the value may be anything
    return team


def _teams_on_file(connection: Connection, municipality: str, caller: Caller, prepared: Sequence[_Prepared]) -> None:
    """Give the households sent without a team the team they are on file with (a household new to the service
    needs one: 422, nothing written), and keep a caseworker to their own team's households: a household on file
    with another team is that team's (or an admin's) to file, whatever the state of its case, for filing it would
    move the household, and its history, to the caseworker's team (403)."""
    asked = [p for p in prepared if p.team is None or caller.team is not None]
    if not asked:
        return
    teams = household_teams(connection, municipality=municipality, pseudonyms=[p.request.household_id for p in asked])
    missing = []
    for p in asked:
        on_file = teams.get(p.request.household_id)
        if caller.team is not None and on_file is not None and on_file != caller.team:
            raise PermissionDeniedError(MSG_HOUSEHOLD_OF_OTHER_TEAM.format(position=p.position))
        if p.team is None:
            p.team = on_file
            if p.team is None:
                missing.append(p.position)
    if missing:
        raise DataValidationError(
            [ValidationFailure(TABLE_REQUEST, f"households.{position}.team", "required", 1) for position in missing],
            summary=MSG_NO_TEAM.format(position=missing[0]),
        )


def _keep_with_team_or_raise(p: _Prepared, caller: Caller) -> None:
    """A caseworker does not move another team's open case to their own list (an admin may)."""
    if caller.team is not None and p.state.item_id is not None and p.state.item_team != p.team:
        raise PermissionDeniedError(MSG_CASE_OF_OTHER_TEAM.format(position=p.position))


def _keep_resent_case_with_team_or_raise(p: _Prepared, caller: Caller) -> None:
    """Signals resent for another team's case are that team's (or an admin's) to resend: a caseworker would
    otherwise be answered with that case, its score and reasons, and take the household to their own team."""
    if caller.team is not None and p.resent_case is not None and p.resent_case.team != p.team:
        raise PermissionDeniedError(MSG_CLOSED_CASE_OF_OTHER_TEAM.format(position=p.position))


def _stored_response(
    connection: Connection, municipality: str, key: str, request_hash: str
) -> ScoreBatchResponse | None:
    stored = stored_submission(connection, municipality=municipality, key=key)
    if stored is None:
        return None
    if stored.request_hash != request_hash:
        raise ConflictError(MSG_IDEMPOTENCY_REUSED)
    return ScoreBatchResponse.model_validate(stored.response)


def _as_answered_now(
    connection: Connection, municipality: str, stored: ScoreBatchResponse, *, settings: Settings
) -> ScoreBatchResponse:
    """A stored answer without the model's advice the service no longer gives: a household that objected is
    answered as an objector (objections.py also rewrites the stored answer itself), in the rule-based order every
    household is answered the standard way, and a rejected model's advice is withdrawn (as on its open cases)."""
    objected = objecting_households(connection, municipality, [result.household_id for result in stored.results])
    rule = ordering_mode(connection, municipality) == "rule"
    versions = {result.model_version for result in stored.results if result.model_version is not None}
    rejected = rejected_versions(connection, versions) if versions and not rule else set()

    def reason_now(result: HouseholdScorePublic) -> StandardReason | None:
        if result.household_id in objected:
            return "objection"
        if result.approach != "model":
            return None
        if rule:
            return "rule_order"
        return "model_withdrawn" if result.model_version in rejected else None

    standard = settings.standard_intensity
    results = [
        result if (reason := reason_now(result)) is None
        else as_standard(result, reason=reason, standard_intensity=standard)
        for result in stored.results
    ]
    update: dict[str, Any] = {"results": results}
    if rule:
        update |= {"ordering": "rule", "model_version": None}
    return stored.model_copy(update=update)


def _household_row(p: _Prepared, municipality: str, *, now: dt.datetime) -> dict[str, Any]:
    return {
        "municipality_code": municipality,
        "household_pseudonym": p.request.household_id,
        "team": p.team,
        "neighbourhood": p.request.neighbourhood,
        **p.payload["facts"],
        "first_seen_at": now,
        "updated_at": now,
    }


def _signal_content(signal: Any) -> dict[str, Any]:
    content = {column: getattr(signal, column) for column in SIGNAL_CONTENT_COLUMNS if column != "replaces_ref"}
    content[SignalSchema.partner_type] = signal.partner_type.value
    content["replaces_ref"] = signal.replaces_signal_id
    return content


def _record_signals(
    connection: Connection, municipality: str, prepared: Sequence[_Prepared], *, now: dt.datetime, reference: dt.date
) -> None:
    """Store the new signals (a resent one once; a reused id with other content is a conflict) and give every
    household all its signals that count, earlier ones included, and apart the ones new to the service.

    A correction (``replaces_signal_id``) is a new signal that replaces an earlier one of the same household: it
    counts like any new signal (it opens or updates a case, its flags and amount count), and the replaced one no
    longer counts (it stays on file, marked).
    """
    incoming: dict[str, tuple[_Prepared, int, dict[str, Any]]] = {}
    for p in prepared:
        for index, signal in enumerate(p.request.signals):
            incoming[signal.signal_id] = (p, index, _signal_content(signal))
    stored = stored_signals(
        connection,
        municipality=municipality,
        refs=list(incoming),
        household_ids=[p.household_pk for p in prepared],
    )
    already = set()
    for row in stored:
        if row.signal_ref not in incoming:
            continue
        p, index, content = incoming[row.signal_ref]
        same = row.household_id == p.household_pk and all(
            getattr(row, column) == content[column] for column in SIGNAL_CONTENT_COLUMNS
        )
        if not same:
            # Whether another household's signal was corrected is none of this caller's business.
            replaced = row.replaced_by_ref is not None and row.household_id == p.household_pk
            message = MSG_REPLACED_SIGNAL_CONFLICT if replaced else MSG_SIGNAL_CONFLICT
            raise ConflictError(message.format(position=p.position, index=index))
        already.add(row.signal_ref)
    replaced = _replacements(incoming, already, stored)
    facts: dict[int, list[SignalFacts]] = {p.household_pk: [] for p in prepared}
    fresh: dict[int, list[SignalFacts]] = {p.household_pk: [] for p in prepared}
    on_file: dict[int, list[Any]] = {p.household_pk: [] for p in prepared}
    for row in stored:
        mine = facts.get(row.household_id)
        if mine is None:
            continue
        on_file[row.household_id].append(row)
        if row.replaced_by_ref is None and row.signal_ref not in replaced:
            mine.append(SignalFacts.of(row._asdict()))
    rows = []
    for signal_id, (p, _index, content) in incoming.items():
        if signal_id in already:
            continue
        rows.append(
            {
                "household_id": p.household_pk,
                "municipality_code": municipality,
                "signal_ref": signal_id,
                **content,
                "received_at": now,
                "known_on": reference,
            }
        )
        new = SignalFacts.of(content)
        facts[p.household_pk].append(new)
        fresh[p.household_pk].append(new)
        p.new_replaces = (*p.new_replaces, content["replaces_ref"])
    insert_signals(connection, rows)
    mark_replaced(connection, municipality=municipality, replaced=replaced)
    for p in prepared:
        p.signals = tuple(facts[p.household_pk])
        p.new_signals = tuple(fresh[p.household_pk])
        p.on_file = tuple(on_file[p.household_pk])


def _replacements(
    incoming: Mapping[str, tuple[_Prepared, int, Mapping[str, Any]]], already: set[str], stored: Sequence[Any]
) -> dict[str, str]:
    """The signals the request's new corrections replace (replaced id -> correction id); a correction must name an
    earlier signal of its own household that no other correction replaced yet."""
    on_file = {row.signal_ref: row for row in stored}
    replaced: dict[str, str] = {}
    failures = []
    for signal_id, (p, index, content) in incoming.items():
        target = content["replaces_ref"]
        if target is None or signal_id in already:
            continue
        row = on_file.get(target)
        # Another household's signal is answered like an unknown one: the answer does not tell it exists.
        if row is None or row.household_id != p.household_pk:
            rule = MSG_REPLACES_UNKNOWN
        elif row.replaced_by_ref is not None or target in replaced:
            rule = MSG_REPLACES_REPLACED
        else:
            replaced[target] = signal_id
            continue
        failures.append(
            ValidationFailure(TABLE_REQUEST, f"households.{p.position}.signals.{index}.replaces_signal_id", rule, 1)
        )
    if failures:
        raise DataValidationError(failures, summary="signal correction refused")
    return replaced


def _find_resent(connection: Connection, prepared: Sequence[_Prepared]) -> None:
    """A household whose signals were all on file already gets its case back as it stands, and nothing changes.

    With its case closed, it would otherwise get a second case (and a second contact) for the same signals. With its
    case open, scoring again would rewrite the advice the caseworker is working from without a new signal: a case
    whose model was withdrawn would get the model's advice back, one whose resident withdrew an objection would be
    scored retroactively, and a decision would be judged against advice the caseworker never saw."""
    resent = [p for p in prepared if not p.new_signals]
    cases = latest_cases(connection, [p.household_pk for p in resent])
    for p in resent:
        p.resent_case = cases.get(p.household_pk)


def _correct_arrears_at_contact(connection: Connection, prepared: Sequence[_Prepared], *, since: dt.date) -> None:
    """The arrears at a household's latest contact, as the corrections received since tell them.

    The cooldown lists a contacted household again when its arrears rose since the contact. The decision recorded
    the arrears as they were then; when a partner has since corrected a signal they were summed from, that figure
    is wrong, and the comparison with it too: a household whose mistyped amount was too high stayed held back
    through a real rise (a household in need missed, the worst outcome), one whose amount was too low was listed
    again while nothing rose (needless contact). The arrears are then summed again, up to the same reference date,
    over the signals on file at the decision with each replaced by its latest correction. Only households with a
    replaced signal are read again (rare); for the others the recorded figure is the same sum."""
    asked = [
        p for p in prepared
        if p.state.last_contact_on is not None and not all(p.in_force(row) for row in p.on_file)
    ]
    contacts = contact_decisions(connection, household_ids=[p.household_pk for p in asked], since=since)
    for p in asked:
        contact = contacts.get(p.household_pk)
        if contact is None:
            continue
        arrears = _corrected_arrears(p, decided_at=contact.decided_at, reference=contact.reference_date)
        if arrears is not None:
            p.state = replace(p.state, arrears_at_contact=arrears)


def _corrected_arrears(p: _Prepared, *, decided_at: dt.datetime, reference: dt.date) -> float | None:
    """The arrears summed up to ``reference`` over the signals on file at ``decided_at``, each replaced by its
    latest correction; ``None`` when no correction received since replaced one of them (the recorded sum holds).

    A correction dated after ``reference`` falls outside that sum, so the household is rather listed than held."""
    rows = {row.signal_ref: row for row in p.on_file}

    def on_file_then(ref: str | None) -> bool:  # the signal, or one it corrects, was on file at the decision
        while ref is not None and (row := rows.get(ref)) is not None:
            if row.received_at <= decided_at:
                return True
            ref = row.replaces_ref
        return False

    kept = [row for row in p.on_file if p.in_force(row) and on_file_then(row.signal_ref)]
    corrections = [s for s, ref in zip(p.new_signals, p.new_replaces, strict=True) if on_file_then(ref)]
    if not corrections and all(row.received_at <= decided_at for row in kept):
        return None
    return total_arrears([*(SignalFacts.of(row._asdict()) for row in kept), *corrections], reference=reference)


def _score(
    to_score: Sequence[_Prepared], *, model: LoadedModel, build_features: FeatureBuilder, reference: dt.date
) -> None:
    records = [
        build_features([signal.to_dict() for signal in p.signals], p.payload["facts"], reference)
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


def _score_row(
    p: _Prepared, scored: Mapping[str, Any], *, model_version: str, reference: dt.date, now: dt.datetime
) -> dict[str, Any]:
    return {
        "household_id": p.household_pk,
        "model_version": model_version,
        "reference_date": reference,
        "score": float(scored["score"]),
        "band": str(scored["band"]),
        "intensity": str(scored["intensity"]),
        "uncertain": bool(scored["uncertain"]),
        "out_of_distribution": [str(name) for name in scored["out_of_distribution"]],
        "flags": [str(flag) for flag in scored["flags"]],
        "reasons": plain_reasons(scored["reasons"]),
        "scored_at": now,
    }


def _plan(
    p: _Prepared,
    *,
    municipality: str,
    settings: Settings,
    key: bytes,
    reference: dt.date,
    today: dt.date,
) -> dict[str, Any]:
    """The review item's columns for one household: approach, control sample, urgency, deadline, cooldown."""
    state = p.state
    # Urgency comes from this case: its new signals (a correction's included) and the open item (which keeps what
    # it was opened with); a crisis its closed case already handled does not make the next one urgent, and a
    # correction never takes an urgency back.
    crisis, end_of_supply = threat_flags(p.new_signals, reference=reference)
    arrears = total_arrears(p.signals, reference=reference)
    existing = state.item_id is not None
    # A resident who objected is not in the control sample: they chose the standard approach themselves, so
    # counting them there would bias the comparison the sample is for.
    control = not state.objected and (
        state.control_sample
        if existing
        else in_control_sample(
            key=key,
            municipality=municipality,
            household=p.request.household_id,
            period=sample_period(today),
            rate=settings.control_sample_rate,
        )
    )
    standard_reason: StandardReason | None = (
        "objection"
        if state.objected
        else "rule_order" if p.scored is None else "control_sample" if control else None
    )
    intensity = (
        settings.standard_intensity.value if standard_reason is not None else str(p.scored["intensity"])
    )
    # A case already on the list stays there: a later, lower signal does not send it back into the cooldown.
    listed = existing and (state.held_until is None or state.held_until <= today)
    held_until = None if listed else cooldown_hold(
        last_contact_on=state.last_contact_on,
        arrears_at_contact=state.arrears_at_contact,
        arrears_now=arrears,
        cooldown_days=settings.cooldown_days,
        today=today,
        new_threat=crisis or end_of_supply,
    )
    urgent = crisis or end_of_supply or state.crisis or state.end_of_supply
    deadline = first_contact_deadline(
        held_until or today,
        urgent=urgent,
        calendar_days=settings.first_contact_days,
        urgent_working_days=settings.urgent_contact_working_days,
    )
    # The deadline counts from the day signals reached the municipality (or the day the hold ends), never from a
    # signal's own date: a signal dated wrongly early did not make the case overdue, and its correction has no
    # deadline to give back. The case keeps the earliest deadline it has had: a correction, like any signal, can
    # make it urgent, never less so, and fixing a partner's mistake does not move a household that was due out of
    # sight (DESIGN, "Harm runs both ways").
    if state.deadline is not None:
        deadline = min(deadline, state.deadline)
    return {
        "team": p.team,
        "approach": "standard" if standard_reason is not None else "model",
        "standard_reason": standard_reason,
        "score_id": p.score_id,
        "control_sample": control,
        "crisis": crisis or state.crisis,
        "end_of_supply": end_of_supply or state.end_of_supply,
        "suggested_intensity": intensity,
        "total_arrears_eur": arrears,
        "first_signal_date": _first_signal_date(p),
        "reference_date": reference,
        "deadline": deadline,
        "held_until": held_until,
    }


def _first_signal_date(p: _Prepared) -> dt.date:
    """The oldest signal in force that the item holds: the rule-based order's key, and the earliest day a contact
    attempt of the case may have. A new item holds the new signals (signals of cases already closed do not count);
    with nothing new and no open item (a resent signal), all of them.

    An open item keeps its date and takes an older new one. Only when a signal it holds has stopped counting (a
    correction replaced it, now or before) is the date read again from the signals it holds that are in force: a
    signal dated wrongly early must not keep the case ahead of households waiting longer. Otherwise the date is
    kept, for a purge may have deleted the oldest signal of a case still waiting, and that case keeps its place."""
    new = [s.signal_date for s in p.new_signals]
    if p.state.first_signal_date is None:
        return min(new or [s.signal_date for s in p.signals])
    held = _held_by_open_item(p)
    if all(p.in_force(row) for row in held):
        return min([p.state.first_signal_date, *new])
    return min([row.signal_date for row in held if p.in_force(row)] + new, default=p.state.first_signal_date)


def _held_by_open_item(p: _Prepared) -> list[Any]:
    """The household's signals on file that its open item holds, replaced ones included: those filed with the
    request that opened it and every one filed later (a case opened on resent signals alone holds all of them).

    The opening request stamped its signals with the item's ``created_at``; each later request filed the household's
    signals under its lock (:func:`upsert_households`), so with higher ids. Ids, not times, say what came later: a
    request reads the time before it waits for that lock."""
    opened = [row.id for row in p.on_file if row.received_at == p.state.item_created_at]
    first = min(opened, default=None)
    return [row for row in p.on_file if first is None or row.id >= first]


def _queue(
    connection: Connection,
    municipality: str,
    prepared: Sequence[_Prepared],
    *,
    context: ScoringContext,
    reference: dt.date,
    today: dt.date,
    model: LoadedModel | None,
) -> list[HouseholdScorePublic]:
    """Open a review item for every household, or update its open one; the public result per household."""
    settings, now = context.settings, context.now
    key = settings.control_sample_key.get_secret_value().encode()
    plans = []
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for p in prepared:
        if p.resent_case is not None:
            continue
        values = _plan(
            p, municipality=municipality, settings=settings, key=key, reference=reference, today=today
        )
        if p.state.item_id is not None:
            # New signals came in (a correction included): the case changed (a resend changes nothing, see
            # _find_resent).
            updates.append({"item_id": p.state.item_id, **values, "updated_at": now})
        else:
            new_rows.append(
                {
                    "household_id": p.household_pk,
                    "municipality_code": municipality,
                    "status": STATUS_OPEN,
                    "received_on": today,
                    "created_at": now,
                    "updated_at": now,
                    "closed_at": None,
                    **values,
                }
            )
        plans.append((p, values))
    update_review_items(connection, updates)
    new_ids = insert_review_items(connection, new_rows)
    planned = {p.position: (p, values) for p, values in plans}
    results = []
    for p in prepared:
        if p.resent_case is not None:
            standard = context.settings.standard_intensity
            case = _case_result(p, p.resent_case, standard_intensity=standard, today=today)
            # A case whose advice an objection erased is answered as an objector's, after a withdrawal too.
            if p.state.objected or p.resent_case.suggested_intensity is None:
                case = as_objector(case, standard_intensity=standard)
            elif model is None and case.case_status == STATUS_OPEN and case.approach == "model":
                # In the rule-based order (no model used) an open case is shown, and judged, the standard way, as
                # the list shows it (queue.advice_for); a closed one keeps the advice it was decided on.
                case = as_standard(case, reason="rule_order", standard_intensity=standard)
            results.append(case)
            continue
        _, values = planned[p.position]
        item_id = new_ids[p.household_pk] if p.state.item_id is None else p.state.item_id
        results.append(_result(p, item_id, values, model=model))
    return results


def _result(
    p: _Prepared, item_id: int, plan: Mapping[str, Any], *, model: LoadedModel | None
) -> HouseholdScorePublic:
    # A household in the control sample is handled the standard way, blind to its score: the answer withholds the
    # score, band, reasons and the flags drawn from them, as the list, the history and the household page do
    # (the score is stored, for the oversight report's comparison).
    scored = None if plan["standard_reason"] == "control_sample" else p.scored
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


def _case_result(
    p: _Prepared, case: Any, *, standard_intensity: ContactIntensity, today: dt.date
) -> HouseholdScorePublic:
    """The result of a resent household: its case as it stands, or as it was decided on (see :func:`_find_resent`);
    the standard first contact where an objection erased the case's advice."""
    is_open = case.status == STATUS_OPEN
    # A case handled the standard way shows no score, as the list and the history do: the control sample is blind
    # to it, and a withdrawn model's advice is no longer given.
    scored = case.score is not None and case.approach == "model"
    ood = [str(name) for name in case.out_of_distribution or ()] if scored else []
    flags = review_flags(
        scorer_flags=[str(f) for f in case.flags or ()] if scored else [],
        crisis=case.crisis,
        end_of_supply=case.end_of_supply,
        control_sample=case.control_sample,
    )
    return HouseholdScorePublic(
        household_id=p.request.household_id,
        review_item_id=case.item_id,
        case_status="open" if is_open else "closed",
        approach=case.approach,
        standard_reason=case.standard_reason,
        score=case.score if scored else None,
        risk_band=case.band if scored else None,
        suggested_intensity=(
            standard_intensity if case.suggested_intensity is None else ContactIntensity(case.suggested_intensity)
        ),
        reasons=[Reason(**reason) for reason in case.reasons or ()] if scored else [],
        review_flags=[flag_public(flag, ood=ood) for flag in flags],
        model_version=case.model_version if scored else None,
        control_sample=case.control_sample,
        deadline=case.deadline,
        held_back_until=case.held_until if is_open and _held(case.held_until, today=today) else None,
    )


def _held(held_until: dt.date | None, *, today: dt.date) -> bool:
    return held_until is not None and held_until > today


#: Review flags that come from the signals, not from a score: an objector's answer keeps them.
SIGNAL_FLAGS = frozenset({ReviewFlag.CRISIS, ReviewFlag.END_OF_SUPPLY})


def as_standard(
    result: HouseholdScorePublic, *, reason: StandardReason, standard_intensity: ContactIntensity
) -> HouseholdScorePublic:
    """``result`` answered the standard way for ``reason``: without a score or anything drawn from one (the flags
    of the signals stay), and outside the control sample (a household that objected leaves it; one answered with
    the model's advice was never in it)."""
    return result.model_copy(
        update={
            "approach": "standard",
            "standard_reason": reason,
            "score": None,
            "risk_band": None,
            "suggested_intensity": standard_intensity,
            "reasons": [],
            "review_flags": [flag for flag in result.review_flags if flag.flag in SIGNAL_FLAGS],
            "model_version": None,
            "control_sample": False,
        }
    )


def as_objector(result: HouseholdScorePublic, *, standard_intensity: ContactIntensity) -> HouseholdScorePublic:
    """``result`` as a household that objected is answered (objections.py rewrites stored answers with it; a resend
    after the objection gets it too)."""
    return as_standard(result, reason="objection", standard_intensity=standard_intensity)


def flag_public(flag: str, *, ood: Sequence[str] = ()) -> ReviewFlagPublic:
    """A review flag with its Dutch and English label (and the features for an out-of-distribution flag)."""
    member = ReviewFlag(flag)
    detail = ", ".join(ood) if member is ReviewFlag.OUT_OF_DISTRIBUTION and ood else None
    return ReviewFlagPublic(flag=member, label_nl=member.nl, label_en=member.en, detail=detail)


def _audit_entries(
    prepared: Sequence[_Prepared],
    results: Sequence[HouseholdScorePublic],
    caller: Caller,
    municipality: str,
    *,
    model: LoadedModel | None,
) -> list[AuditEntry]:
    return [
        AuditEntry.by(
            caller,
            municipality_code=municipality,
            action=_audit_action(p),
            object_id=p.request.household_id,
            model_version=_served_version(p, result, model),
            input_hash=input_hash(p.payload),
            detail={"signals": len(p.request.signals), "objected": p.state.objected}
            | (_resent_case_detail(p.resent_case) if p.resent_case is not None else {})
            | ({"replaced_signals": list(p.replaced_refs)} if p.replaced_refs else {}),
        )
        for p, result in zip(prepared, results, strict=True)
    ]


def _resent_case_detail(case: Any) -> dict[str, int]:
    return {"open_review_item_id" if case.status == STATUS_OPEN else "closed_review_item_id": case.item_id}


def _audit_action(p: _Prepared) -> str:
    if p.resent_case is not None:
        return AuditAction.SIGNALS_RESENT
    return AuditAction.SCORE if p.scored is not None else AuditAction.SIGNALS_RECEIVED_STANDARD


def _served_version(p: _Prepared, result: HouseholdScorePublic, model: LoadedModel | None) -> str | None:
    """The model version behind what was served: a resent case's answer names it (none when it was answered the
    standard way); a household scored now, the model that scored it (also when its answer withholds the score)."""
    if p.resent_case is not None:
        return result.model_version
    return model.version if p.scored is not None and model is not None else None


def _replay_entries(
    prepared: Sequence[_Prepared], stored: ScoreBatchResponse, caller: Caller, municipality: str
) -> list[AuditEntry]:
    return [
        AuditEntry.by(
            caller,
            municipality_code=municipality,
            action=AuditAction.SCORE_REPLAYED,
            object_id=result.household_id,
            model_version=result.model_version,
            input_hash=input_hash(p.payload),
            detail={"review_item_id": result.review_item_id},
        )
        for p, result in zip(prepared, stored.results, strict=True)
    ]
