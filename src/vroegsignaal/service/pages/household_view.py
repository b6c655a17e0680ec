"""The household page's pieces: the signals as a small timeline, and the decision form. Pure functions.

The timeline is plain geometry for an inline SVG (no JavaScript library); the same signals are listed in a table
beside it, which is what a screen reader reads. The decision form is turned into the API's
:class:`~vroegsignaal.schemas.api.DecisionCreate`, so the page and the API are checked by the same rules.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from vroegsignaal.schemas.api import (
    MAX_CONTACT_ATTEMPTS,
    DecisionCreate,
    HouseholdHistoryResponse,
    ReviewItemPublic,
    SignalPublic,
)
from vroegsignaal.schemas.enums import ContactIntensity, LabelledEnum, PartnerType, partner_group
from vroegsignaal.service.decisions import (
    CHECK_REASON_REQUIRED,
    MSG_ATTEMPT_BEFORE_CASE,
    MSG_ATTEMPT_IN_FUTURE,
    MSG_RESULT_CONTRADICTS_CONTACT,
    MSG_RESULT_NEEDS_ATTEMPT,
    MSG_RESULT_NEEDS_CONTACT,
)
from vroegsignaal.service.pages.forms import DEFAULT_MESSAGE_KEY, FieldError, errors_from_validation
from vroegsignaal.service.pages.i18n import Translator

#: How many contact attempts the form offers at first; "add an attempt" adds rows up to the API's limit.
ATTEMPT_ROWS = 3
#: Hidden field with the number of attempt rows the form showed.
ATTEMPT_ROWS_FIELD = "attempt_rows"
#: The name of the button that shows the form again with one more attempt row (and records nothing).
ADD_ATTEMPT_FIELD = "add_attempt"
ATTEMPT_FIELDS = ("kind", "attempted_on", "part_of_day", "reached")
REACHED_YES, REACHED_NO = "yes", "no"
#: The first attempt's date field, which the page fills in with today for convenience.
PREFILLED_DATE = "contact_attempts.0.attempted_on"
#: Hidden field that carries the date the page filled in, so the form knows that date is not the caseworker's entry.
PREFILLED_DATE_FIELD = "prefilled_attempted_on"
#: Hidden field with the case's ``updated_at`` as the caseworker first saw it (the API's ``case_updated_at``).
CASE_VERSION_FIELD = "case_updated_at"


def _template_pattern(template: str) -> re.Pattern[str]:
    """What the messages formatted from ``template`` match: its fixed text, anything in its placeholders."""
    return re.compile(".*".join(re.escape(text) for text, *_ in string.Formatter().parse(template)), re.DOTALL)


#: The decision refusals the form explains in the caseworker's language, by the message the API gives.
_DOMAIN_MESSAGE_KEYS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_template_pattern(MSG_ATTEMPT_IN_FUTURE), "form.error.future_date"),
    (_template_pattern(MSG_ATTEMPT_BEFORE_CASE), "form.error.before_case"),
    (_template_pattern(MSG_RESULT_CONTRADICTS_CONTACT), "form.error.result_contradicts_contact"),
    (_template_pattern(MSG_RESULT_NEEDS_CONTACT), "form.error.result_needs_contact"),
    (_template_pattern(MSG_RESULT_NEEDS_ATTEMPT), "form.error.result_needs_attempt"),
)


# ---------------------------------------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class TimelinePoint:
    x: float
    y: float
    signal: SignalPublic
    group: str  # partner group (rent, energy, water, health_insurance, other): the marker's colour class


@dataclass(frozen=True)
class TimelineTick:
    x: float
    day: dt.date


@dataclass(frozen=True)
class Timeline:
    """Coordinates for the SVG: points per signal (x = signal date, y = amount) and month ticks."""

    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    bottom: float
    top: float
    points: tuple[TimelinePoint, ...]
    ticks: tuple[TimelineTick, ...]
    max_amount: float
    start: dt.date
    end: dt.date


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    day = dt.date(start.year, start.month, 1)
    if day < start:
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    months = []
    while day <= end:
        months.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def signal_timeline(
    signals: Sequence[SignalPublic],
    *,
    today: dt.date,
    window_days: int = 365,
    width: int = 640,
    height: int = 170,
    max_ticks: int = 7,
) -> Timeline:
    """The timeline of ``signals`` over the last ``window_days`` up to ``today`` (further back for older signals)."""
    # Room on the left for the amount labels (up to "€ 100.000"), below for the month labels.
    left, right, top, bottom = 76, 16, 12.0, float(height - 28)
    start = min([today - dt.timedelta(days=window_days), *(s.signal_date for s in signals)])
    span = max((today - start).days, 1)
    max_amount = max((s.amount_eur for s in signals), default=0.0) or 1.0

    def x_of(day: dt.date) -> float:
        return round(left + (width - left - right) * (day - start).days / span, 1)

    def y_of(amount: float) -> float:
        return round(bottom - (bottom - top) * amount / max_amount, 1)

    points = tuple(
        TimelinePoint(x_of(s.signal_date), y_of(s.amount_eur), s, partner_group(s.partner_type.value))
        for s in sorted(signals, key=lambda s: (s.signal_date, s.signal_id))
    )
    months = _month_starts(start, today)
    step = max(1, -(-len(months) // max_ticks))
    ticks = tuple(TimelineTick(x_of(day), day) for day in months[::step])
    return Timeline(width, height, left, width - right, bottom, top, points, ticks, max_amount, start, today)


def partner_groups_shown(timeline: Timeline) -> list[PartnerType]:
    """The partner groups in the timeline, for its legend, in the enumeration's order."""
    groups = {point.group for point in timeline.points}
    return [partner for partner in PartnerType if partner.value in groups]


# --------------------------------------------------------------------------------------------------- the open item


def open_item(history: HouseholdHistoryResponse) -> ReviewItemPublic | None:
    """The household's open review item (at most one exists), if any."""
    return next((item for item in history.review_items if item.status == "open"), None)


def shows_model_advice(item: ReviewItemPublic | None) -> bool:
    """Whether the page may show the score and its reasons: not for the control sample or another standard
    approach, which caseworkers must treat the standard way regardless of the score."""
    return item is None or item.approach == "model"


# ------------------------------------------------------------------------------------------------- decision form


@dataclass(frozen=True)
class ParsedDecision:
    """The decision a form describes, or the problems per field."""

    request: DecisionCreate | None
    errors: dict[str, FieldError]
    rows: tuple[int, ...]  # form row of each contact attempt in the request

    def form_field(self, api_field: str) -> str:
        """The form field of an API field path: attempts are renumbered when empty rows are skipped."""
        parts = api_field.split(".")
        if len(parts) >= 2 and parts[0] == "contact_attempts" and parts[1].isdigit():
            index = int(parts[1])
            if index < len(self.rows):
                parts[1] = str(self.rows[index])
        return ".".join(parts)


def attempt_field(row: int, name: str) -> str:
    return f"contact_attempts.{row}.{name}"


def default_decision_values(*, today: dt.date, suggested: ContactIntensity | None) -> dict[str, str]:
    """What the decision form shows before anyone typed: today as the first attempt's date (remembered in
    :data:`PREFILLED_DATE_FIELD`) and the suggested intensity, when there is one."""
    values = {PREFILLED_DATE: today.isoformat(), PREFILLED_DATE_FIELD: today.isoformat()}
    if suggested is not None:
        values["chosen_intensity"] = suggested.value
    return values


def _filled_rows(form: Mapping[str, str]) -> list[int]:
    """The attempt rows with something the caseworker entered (the date the page filled in does not count)."""
    prefilled = {PREFILLED_DATE: form.get(PREFILLED_DATE_FIELD, "").strip()}
    filled = []
    for row in range(MAX_CONTACT_ATTEMPTS):
        for name in ATTEMPT_FIELDS:
            value = form.get(attempt_field(row, name), "").strip()
            if value and value != prefilled.get(attempt_field(row, name)):
                filled.append(row)
                break
    return filled


def attempt_rows_shown(form: Mapping[str, str]) -> int:
    """How many attempt rows the form shows: as many as it showed before (and every filled one), one more when the
    caseworker asked for it, at least :data:`ATTEMPT_ROWS` and at most the API's limit."""
    raw = form.get(ATTEMPT_ROWS_FIELD, "")
    shown = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
    filled = _filled_rows(form)
    rows = max(ATTEMPT_ROWS, shown, filled[-1] + 1 if filled else 0)
    if ADD_ATTEMPT_FIELD in form:
        rows += 1
    return min(rows, MAX_CONTACT_ATTEMPTS)


def parse_decision_form(form: Mapping[str, str]) -> ParsedDecision:
    """Turn the form into a :class:`DecisionCreate`; a row of the attempts left empty is skipped, a row filled in
    part names each missing field. The date the page filled in itself (:data:`PREFILLED_DATE_FIELD`) does not make a
    row count: a decision without contact attempts can be sent as the page shows it."""
    errors: dict[str, FieldError] = {}
    attempts, rows = [], []
    for row in _filled_rows(form):
        values = {name: form.get(attempt_field(row, name), "").strip() for name in ATTEMPT_FIELDS}
        for name, value in values.items():
            if not value:
                errors[attempt_field(row, name)] = FieldError("form.error.required")
        reached = {REACHED_YES: True, REACHED_NO: False}.get(values["reached"])
        attempts.append({**values, "reached": reached})
        rows.append(row)
    payload = {
        "contact_attempts": attempts,
        "end_result": form.get("end_result", "").strip() or None,
        "chosen_intensity": form.get("chosen_intensity", "").strip() or None,
        "departure_reason": form.get("departure_reason", "").strip() or None,
        "case_updated_at": form.get(CASE_VERSION_FIELD, "").strip() or None,
    }
    parsed = ParsedDecision(None, errors, tuple(rows))
    try:
        request = DecisionCreate.model_validate({k: v for k, v in payload.items() if v is not None})
    except ValidationError as exc:
        for name, error in errors_from_validation(exc, rename=parsed.form_field).items():
            errors.setdefault(name, error)
        return parsed
    return ParsedDecision(None if errors else request, errors, tuple(rows))


def domain_message_key(check: str) -> str:
    """Message key of a refusal by :func:`~vroegsignaal.service.decisions.record_decision`."""
    if check == CHECK_REASON_REQUIRED:
        return "form.error.reason_required"
    return next((key for pattern, key in _DOMAIN_MESSAGE_KEYS if pattern.fullmatch(check)), DEFAULT_MESSAGE_KEY)


def options(enum: type[LabelledEnum], t: Translator) -> list[tuple[str, str]]:
    """(value, label) of every member of ``enum``, for a select or a radio group."""
    return [(member.value, t.label(member)) for member in enum]


def intensity_options(suggested: ContactIntensity | None, t: Translator) -> list[tuple[str, str]]:
    """The contact intensities, the suggested one marked as the advice."""
    return [
        (member.value, t("decision.advised", label=t.label(member)) if member is suggested else t.label(member))
        for member in ContactIntensity
    ]
