"""The household page's timeline geometry and its decision form, checked by the API's own model."""

from __future__ import annotations

import datetime as dt

import pytest

from vroegsignaal.errors import DataValidationError, ValidationFailure
from vroegsignaal.schemas.api import ReviewItemPublic, SignalPublic
from vroegsignaal.schemas.enums import ContactIntensity, ContactKind, EndResult, PartnerType
from vroegsignaal.service.decisions import (
    CHECK_REASON_REQUIRED,
    MSG_ATTEMPT_IN_FUTURE,
    MSG_RESULT_CONTRADICTS_CONTACT,
    MSG_RESULT_NEEDS_ATTEMPT,
    MSG_RESULT_NEEDS_CONTACT,
)
from vroegsignaal.service.pages.forms import DEFAULT_MESSAGE_KEY, FieldError, FormState, errors_from_domain
from vroegsignaal.service.pages.household_view import (
    REACHED_NO,
    REACHED_YES,
    default_decision_values,
    domain_message_key,
    intensity_options,
    parse_decision_form,
    partner_groups_shown,
    shows_model_advice,
    signal_timeline,
)
from vroegsignaal.service.pages.i18n import Translator

TODAY = dt.date(2026, 3, 4)
NOON = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)


def signal(days_ago: int, amount: float, partner: PartnerType = PartnerType.RENT) -> SignalPublic:
    day = TODAY - dt.timedelta(days=days_ago)
    return SignalPublic(signal_id=f"s-{days_ago}", partner_type=partner, amount_eur=amount,
                        arrears_start_date=day - dt.timedelta(days=40), signal_date=day, crisis=False,
                        warm_handover=False, end_of_supply=False, received_at=NOON)


def review_item(approach: str, reason: str | None) -> ReviewItemPublic:
    return ReviewItemPublic(id=1, team="team-noord", status="open", approach=approach, standard_reason=reason,
                            control_sample=reason == "control_sample", urgent=False,
                            suggested_intensity=ContactIntensity.PHONE, received_on=TODAY, deadline=TODAY,
                            held_until=None, created_at=NOON, updated_at=NOON, closed_at=None)


def test_timeline_places_the_newest_signal_right_and_the_largest_amount_at_the_top():
    timeline = signal_timeline([signal(10, 500.0), signal(200, 1000.0, PartnerType.WATER)], today=TODAY)
    older, newer = timeline.points
    assert older.signal.amount_eur == 1000.0 and older.x < newer.x
    assert older.y == timeline.top and newer.y == pytest.approx((timeline.top + timeline.bottom) / 2, abs=0.1)
    assert timeline.start == TODAY - dt.timedelta(days=365) and timeline.end == TODAY
    assert newer.x <= timeline.right < timeline.width
    assert all(timeline.left <= tick.x <= timeline.right for tick in timeline.ticks)
    assert [tick.day.day for tick in timeline.ticks] == [1] * len(timeline.ticks)


def test_timeline_reaches_back_to_an_old_signal_with_a_bounded_number_of_ticks():
    timeline = signal_timeline([signal(1500, 300.0)], today=TODAY, max_ticks=7)
    assert timeline.start == TODAY - dt.timedelta(days=1500)
    assert timeline.points[0].x == timeline.left and len(timeline.ticks) <= 7


def test_timeline_without_signals_has_no_points():
    timeline = signal_timeline([], today=TODAY)
    assert timeline.points == () and timeline.ticks


def test_legend_shows_the_partner_groups_in_the_timeline():
    timeline = signal_timeline([signal(5, 1.0, PartnerType.DUO), signal(9, 1.0, PartnerType.RENT)], today=TODAY)
    assert partner_groups_shown(timeline) == [PartnerType.RENT, PartnerType.OTHER]


@pytest.mark.parametrize(
    ("approach", "reason", "shown"),
    [("model", None, True), ("standard", "control_sample", False), ("standard", "objection", False)],
)
def test_score_and_reasons_are_hidden_for_items_handled_the_standard_way(approach, reason, shown):
    assert shows_model_advice(review_item(approach, reason)) is shown


def complete_form(**overrides: str) -> dict[str, str]:
    return {
        "contact_attempts.0.kind": ContactKind.PHONE.value,
        "contact_attempts.0.attempted_on": TODAY.isoformat(),
        "contact_attempts.0.part_of_day": "morning",
        "contact_attempts.0.reached": REACHED_YES,
        "end_result": EndResult.FINANCIAL_FOLLOW_UP.value,
        "chosen_intensity": ContactIntensity.PHONE.value,
        **overrides,
    }


def test_complete_form_becomes_the_apis_decision():
    parsed = parse_decision_form(complete_form())
    assert parsed.errors == {}
    assert parsed.request is not None and parsed.request.contact_attempts[0].reached is True
    assert parsed.request.end_result is EndResult.FINANCIAL_FOLLOW_UP


def test_empty_attempt_rows_are_skipped_and_later_rows_keep_their_number_in_messages():
    form = {key.replace(".0.", ".2."): value for key, value in complete_form().items()}
    form["contact_attempts.2.kind"] = "carrier_pigeon"
    parsed = parse_decision_form(form)
    assert parsed.request is None and parsed.rows == (2,)
    assert parsed.errors == {"contact_attempts.2.kind": FieldError("form.error.choice")}


def test_a_row_filled_in_part_names_each_missing_field():
    parsed = parse_decision_form(complete_form(**{"contact_attempts.1.kind": ContactKind.LETTER.value,
                                                  "contact_attempts.1.reached": REACHED_NO}))
    assert set(parsed.errors) == {"contact_attempts.1.attempted_on", "contact_attempts.1.part_of_day"}
    assert {error.key for error in parsed.errors.values()} == {"form.error.required"}


def test_the_date_the_page_filled_in_alone_is_no_contact_attempt():
    form = {**default_decision_values(today=TODAY, suggested=ContactIntensity.LETTER),
            "end_result": EndResult.NOT_A_RESIDENT.value}
    parsed = parse_decision_form(form)
    assert parsed.errors == {} and parsed.rows == ()
    assert parsed.request is not None and parsed.request.contact_attempts == []


@pytest.mark.parametrize(
    ("entered", "missing"),
    [
        ({"contact_attempts.0.kind": ContactKind.PHONE.value}, {"part_of_day", "reached"}),
        ({"contact_attempts.0.attempted_on": (TODAY - dt.timedelta(days=1)).isoformat()},
         {"kind", "part_of_day", "reached"}),
    ],
    ids=["kind-beside-the-filled-in-date", "a-date-of-ones-own"],
)
def test_a_row_with_anything_entered_besides_the_filled_in_date_is_checked(entered, missing):
    form = {**default_decision_values(today=TODAY, suggested=ContactIntensity.LETTER),
            "end_result": EndResult.NOT_A_RESIDENT.value, **entered}
    parsed = parse_decision_form(form)
    assert parsed.request is None
    assert set(parsed.errors) == {f"contact_attempts.0.{name}" for name in missing}


def test_the_filled_in_date_counts_only_in_the_row_the_page_filled_in():
    form = {**default_decision_values(today=TODAY, suggested=ContactIntensity.LETTER),
            "contact_attempts.0.attempted_on": "", "contact_attempts.1.attempted_on": TODAY.isoformat(),
            "end_result": EndResult.NOT_A_RESIDENT.value}
    assert set(parse_decision_form(form).errors) == {
        "contact_attempts.1.kind", "contact_attempts.1.part_of_day", "contact_attempts.1.reached"}


def test_missing_result_and_too_short_reason_get_their_own_messages():
    form = complete_form(end_result="", departure_reason="no")
    parsed = parse_decision_form(form)
    assert parsed.errors["end_result"] == FieldError("form.error.required")
    assert parsed.errors["departure_reason"] == FieldError("form.error.too_short", {"min_length": 3})


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("departure_reason", "called 111222333 twice", "form.error.personal_data"),
        ("departure_reason", "resident\x07 asked", "form.error.control_characters"),
        ("departure_reason", "a\u200b\u200b\u200bb", "form.error.nothing_visible"),
        ("contact_attempts.0.attempted_on", "0001-01-01", "form.error.date_too_early"),
    ],
)
def test_each_rule_of_a_reason_or_date_gets_its_own_message(field, value, key):
    """A BSN, a control character, a reason that shows nothing and a date before 1900 all got "this is not
    right, check what you entered", which does not say what to fix."""
    parsed = parse_decision_form(complete_form(**{field: value}))
    assert parsed.errors[field].key == key


def test_domain_refusals_map_to_the_form_fields():
    refused = DataValidationError([
        ValidationFailure("decision", "departure_reason", CHECK_REASON_REQUIRED, 1),
        ValidationFailure("decision", "contact_attempts.0.attempted_on",
                          MSG_ATTEMPT_IN_FUTURE.format(today=TODAY), 1),
        ValidationFailure("decision", "other", "something new", 1),
    ])
    parsed = parse_decision_form({key.replace(".0.", ".1."): value for key, value in complete_form().items()})
    errors = errors_from_domain(refused, key_for=domain_message_key, rename=parsed.form_field)
    assert errors == {
        "departure_reason": FieldError("form.error.reason_required"),
        "contact_attempts.1.attempted_on": FieldError("form.error.future_date"),
        "other": FieldError(DEFAULT_MESSAGE_KEY),
    }


def test_each_refusal_about_the_end_result_gets_its_own_message():
    # The messages start alike ("end_result 'x' says the resident ..."): each is told by its whole text.
    not_reached = MSG_RESULT_CONTRADICTS_CONTACT.format(result="no_contact_possible", index=0)
    spoken_to = MSG_RESULT_NEEDS_CONTACT.format(result="financial_follow_up")
    untried = MSG_RESULT_NEEDS_ATTEMPT.format(result="no_contact_possible")
    assert domain_message_key(not_reached) == "form.error.result_contradicts_contact"
    assert domain_message_key(spoken_to) == "form.error.result_needs_contact"
    assert domain_message_key(untried) == "form.error.result_needs_attempt"
    assert domain_message_key("end_result 'x' is something else") == DEFAULT_MESSAGE_KEY


def test_a_field_is_described_by_its_hint_and_its_message():
    form = FormState({}, {"end_result": FieldError("form.error.required")})
    assert form.described_by("end_result", hint="Kies") == "f-end_result-hint f-end_result-error"
    assert form.described_by("departure_reason") == ""


def test_the_suggested_intensity_is_marked_as_the_advice():
    labels = dict(intensity_options(ContactIntensity.PHONE, Translator("nl")))
    assert labels["phone"] == "telefonisch contact (advies)" and labels["letter"] == "brief"
