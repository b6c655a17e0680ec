"""Bad requests get the right status and a clear message, and leave the database exactly as it was."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.service.conftest import (
    MUNICIPALITY,
    TEAM,
    TEST_SECRET,
    auth,
    batch,
    household,
    row_counts,
    signal,
    spoken_to,
    token,
)
from vroegsignaal.schemas.api import MSG_END_OF_SUPPLY_PARTNER, MSG_SIGNAL_BEFORE_START
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.decisions import MSG_REASON_REQUIRED
from vroegsignaal.service.http_errors import MSG_BATCH_TOO_LARGE
from vroegsignaal.service.security import MSG_EXPIRED_TOKEN

CASEWORKER = auth(Role.CASEWORKER)
PSEUDONYM = "hh_badrequest_001"


def _valid() -> dict:
    return batch(household(PSEUDONYM, signal("s-1", amount=700.0)))


def _with(path: tuple, value) -> dict:  # noqa: ANN001
    body = _valid()
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


BAD_BODIES = {
    "amount as text": (_with(("households", 0, "signals", 0, "amount_eur"), "700"), "households.0.signals.0.amount_eur"),
    "flag as text": (_with(("households", 0, "signals", 0, "crisis"), "true"), "households.0.signals.0.crisis"),
    "negative amount": (_with(("households", 0, "signals", 0, "amount_eur"), -5), "greater than or equal to 0"),
    "unknown partner": (_with(("households", 0, "signals", 0, "partner_type"), "casino"), "partner_type"),
    "missing facts": (_with(("households", 0, "facts"), KeyError), "households.0.facts"),
    "missing signals": (_with(("households", 0, "signals"), []), "households.0.signals"),
    "unknown field": (_with(("households", 0, "bsn"), "111222333"), "households.0.bsn"),
    "bad pseudonym": (_with(("households", 0, "household_id"), "123"), "households.0.household_id"),
    "bad municipality": (_with(("municipality_code",), "Utrecht"), "municipality_code"),
    # Rules across fields name the field they are about.
    "dates reversed": (
        _with(("households", 0, "signals", 0, "arrears_start_date"), "2026-03-03"),
        f"households.0.signals.0.signal_date: Value error, {MSG_SIGNAL_BEFORE_START}",
    ),
    "end of supply from rent": (
        _with(("households", 0, "signals", 0, "end_of_supply"), True),
        f"households.0.signals.0.end_of_supply: Value error, {MSG_END_OF_SUPPLY_PARTNER}",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_invalid_score_request_is_422_naming_the_field_and_changes_nothing(client, engine, case):
    body, expected = BAD_BODIES[case]
    before = row_counts(engine)
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"]
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("households", 0, "household_id"), "111222333"),  # an identifier field: never repeated
        (("households", 0, "bsn"), "123456782"),  # a field the schema does not know: never repeated
        (("households", 0, "geboortedatum"), "1980-05-04"),
        (("households", 0, "signals", 0, "amount_eur"), "123456782"),  # a BSN where an amount belongs
        (("households", 0, "signals", 0, "partner_type"), "iemand@example.com"),
        (("households", 0, "signals", 0, "partner_type"), "Voorbeeldstraat 1"),
    ],
)
def test_values_that_may_identify_a_person_are_never_echoed(client, path, value):
    response = client.post("/v1/scores", json=_with(path, value), headers=CASEWORKER)
    assert response.status_code == 422
    assert ".".join(str(part) for part in path) in response.json()["detail"]
    assert value not in response.text


def test_other_bad_values_are_echoed_to_help_the_sender(client):
    response = client.post("/v1/scores", json=_with(("households", 0, "signals", 0, "amount_eur"), "700"),
                           headers=CASEWORKER)
    assert response.status_code == 422 and "(got '700')" in response.json()["detail"]


def test_signal_in_the_future_is_refused(client, engine):
    before = row_counts(engine)
    body = batch(household(PSEUDONYM, signal("s-1", days_ago=-3, started_days_ago=10)))
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 422 and "households.0.signals.0.signal_date" in response.json()["detail"]
    assert row_counts(engine) == before


def test_too_large_batch_is_413(client, engine):
    before = row_counts(engine)
    body = batch(*(household(f"hh_large_{i:08d}", signal(f"s-{i}")) for i in range(6)))
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 413
    assert response.json()["detail"] == MSG_BATCH_TOO_LARGE.format(count=6, limit=5)
    assert row_counts(engine) == before


def test_body_over_the_byte_limit_is_413(make_client, engine):
    client = make_client(max_body_bytes=1_000)
    before = row_counts(engine)
    body = batch(*(household(f"hh_bytes_{i:08d}", signal(f"s-{i}")) for i in range(5)))
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 413
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Authorization": "Bearer not-a-jwt"}, "invalid token"),
        ({"Authorization": f"Bearer {token(Role.CASEWORKER, secret='another-secret-of-sufficient-length-000000')}"},
         "Signature verification failed"),
        ({"Authorization": f"Bearer {token(Role.CASEWORKER, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))}"},
         MSG_EXPIRED_TOKEN),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing bearer token"),
        # A claim with a line break after a valid value is not that value ("$" of re.match allowed it: a 500 on
        # the municipality, another team or user for the others).
        ({"Authorization": f"Bearer {token(Role.CASEWORKER, municipality=MUNICIPALITY + chr(10))}"}, "'municipality'"),
        ({"Authorization": f"Bearer {token(Role.CASEWORKER, team=TEAM + chr(10))}"}, "'team'"),
        ({"Authorization": f"Bearer {token(Role.CASEWORKER, subject='user-1' + chr(10))}"}, "'sub'"),
    ],
    ids=["garbage", "wrong-key", "expired", "basic-auth", "municipality-newline", "team-newline", "subject-newline"],
)
def test_bad_token_is_401_and_changes_nothing(client, engine, headers, message):
    before = row_counts(engine)
    response = client.post("/v1/scores", json=_valid(), headers=headers)
    assert response.status_code == 401 and message in response.json()["detail"]
    assert TEST_SECRET not in response.text
    assert row_counts(engine) == before


def test_wrong_role_is_403_and_changes_nothing(client, engine):
    before = row_counts(engine)
    response = client.post("/v1/scores", json=_valid(), headers=auth(Role.DATA_SCIENTIST))
    assert response.status_code == 403
    assert response.json()["detail"].startswith("role 'data_scientist' may not call POST /v1/scores")
    assert row_counts(engine) == before


@pytest.mark.parametrize("path", ["/v1/scores", "/v1/review-items/1/decisions", "/v1/objections"])
def test_a_body_that_is_not_json_is_401_without_a_token_403_for_a_wrong_role_422_otherwise(client, engine, path):
    # FastAPI parses the body before it looks at the token: a missing token was answered 422 "JSON decode error".
    before = row_counts(engine)
    not_json = {"Content-Type": "application/json"}
    missing = client.post(path, content=b"{not json", headers=not_json)
    assert missing.status_code == 401 and "missing bearer token" in missing.json()["detail"]
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong_role = client.post(path, content=b"{not json", headers={**not_json, **auth(Role.DATA_SCIENTIST)})
    assert wrong_role.status_code == 403 and "may not call POST" in wrong_role.json()["detail"]
    allowed = client.post(path, content=b"{not json", headers={**not_json, **auth(Role.CASEWORKER)})
    assert allowed.status_code == 422 and allowed.json()["errors"][0]["rule"] == "json_invalid"
    assert row_counts(engine) == before


def test_unknown_household_is_404(client, engine):
    before = row_counts(engine)
    response = client.get("/v1/households/hh_never_seen_0001", headers=CASEWORKER)
    assert response.status_code == 404 and "hh_never_seen_0001" not in response.text
    assert row_counts(engine) == before


def test_unknown_review_item_is_404(client, engine):
    before = row_counts(engine)
    response = client.post("/v1/review-items/999/decisions", headers=CASEWORKER,
                           json={"end_result": "declines_help", "chosen_intensity": "letter"})
    assert response.status_code == 404 and response.json()["detail"] == "review item 999 does not exist"
    assert row_counts(engine) == before


def test_decision_departing_from_the_advice_without_reason_is_422_and_changes_nothing(client, engine):
    scored = client.post("/v1/scores", json=batch(household(PSEUDONYM, signal("s-1", amount=9000.0))),
                         headers=CASEWORKER).json()["results"][0]
    assert scored["suggested_intensity"] == "home_visit"
    before = row_counts(engine)
    response = client.post(
        f"/v1/review-items/{scored['review_item_id']}/decisions",
        json={"end_result": "declines_help", "chosen_intensity": "letter", "departure_reason": "   ",
              "contact_attempts": [spoken_to()]},
        headers=CASEWORKER,
    )
    assert response.status_code == 422
    expected = MSG_REASON_REQUIRED.format(why="chosen_intensity 'letter' departs from the suggested 'home_visit'")
    assert response.json()["detail"].startswith(expected)
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("path", "field"),
    [("reference_date", "reference_date"), ("signal_date", "households.0.signals.0.signal_date"),
     ("arrears_start_date", "households.0.signals.0.arrears_start_date")],
)
def test_a_date_before_1900_is_refused_naming_the_field(client, engine, path, field):
    # 0001-01-01 was a 500: the day arithmetic on it (a year of signals, the cooldown) left the calendar.
    body = _valid()
    if path == "reference_date":
        body["reference_date"] = "0001-01-01"
    else:
        body["households"][0]["signals"][0][path] = "0001-01-01"
        body["households"][0]["signals"][0]["arrears_start_date"] = "0001-01-01"
    before = row_counts(engine)
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert "1900-01-01" in response.text
    assert row_counts(engine) == before


def test_an_oversight_report_from_before_1900_is_refused(client):
    admin = auth(Role.ADMIN)
    response = client.get("/v1/oversight", params={"since": "0001-01-01"}, headers=admin)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.since"
    assert client.get("/v1/oversight", params={"since": "9999-12-31"}, headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        ("liever\x00 bellen", "must not contain control characters"),  # PostgreSQL answered 503 "retry"
        ("  a", "must hold at least 3 visible characters"),
        ("\u200b\u200ba\u200b", "must hold at least 3 visible characters"),
        ("\u200e\u200fok\u202e", "must hold at least 3 visible characters"),
        ("BSN 123456782 belde zelf", "must not hold a BSN"),
    ],
    ids=["nul", "one-letter", "zero-width", "bidi", "bsn"],
)
def test_a_departure_reason_that_says_nothing_or_holds_a_bsn_is_refused_without_repeating_it(client, engine, reason,
                                                                                               rule):
    scored = client.post("/v1/scores", json=batch(household(PSEUDONYM, signal("s-1", amount=9000.0))),
                         headers=CASEWORKER).json()["results"][0]
    before = row_counts(engine)
    response = client.post(
        f"/v1/review-items/{scored['review_item_id']}/decisions", headers=CASEWORKER,
        json={"end_result": "declines_help", "chosen_intensity": "letter", "departure_reason": reason,
              "contact_attempts": [spoken_to()]},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "departure_reason"
    assert rule in response.json()["detail"]
    assert "123456782" not in response.text and "bellen" not in response.text
    assert row_counts(engine) == before


def test_free_text_is_never_repeated_in_an_error_message(client):
    scored = client.post("/v1/scores", json=batch(household(PSEUDONYM, signal("s-1", amount=9000.0))),
                         headers=CASEWORKER).json()["results"][0]
    too_long = "Mevrouw Annelies Jansen wil niet thuis bezocht worden " * 10
    response = client.post(
        f"/v1/review-items/{scored['review_item_id']}/decisions", headers=CASEWORKER,
        json={"end_result": "declines_help", "chosen_intensity": "letter", "departure_reason": too_long,
              "contact_attempts": [spoken_to()]},
    )
    assert response.status_code == 422 and "Jansen" not in response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/models/fake-1/approval", {"decision": "reject", "comment": " " * 12}),
        ("/v1/admin/ordering", {"mode": "rule", "reason": "\u200b" * 6}),
        ("/v1/admin/ordering", {"mode": "rule", "reason": "storing\x00 test"}),
    ],
    ids=["blank-approval-comment", "invisible-switch-reason", "nul-switch-reason"],
)
def test_a_required_comment_or_reason_must_show_something(client, engine, path, body):
    before = row_counts(engine)
    headers = auth(Role.ETHICS_REVIEWER) if "approval" in path else auth(Role.ADMIN)
    send = client.post if "approval" in path else client.put
    response = send(path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] in ("comment", "reason")
    assert row_counts(engine) == before


@pytest.mark.parametrize("value", ["Hoofdstraat nr 12", "Hoofdstr 12", "Kerkln 5", "Dorpsweg no. 3"])
def test_a_street_with_a_house_number_is_no_neighbourhood(client, engine, value):
    before = row_counts(engine)
    response = client.post("/v1/scores", json=_with(("households", 0, "neighbourhood"), value), headers=CASEWORKER)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "households.0.neighbourhood"
    assert value not in response.text
    assert row_counts(engine) == before


def test_another_teams_name_is_not_repeated(client, engine):
    response = client.post("/v1/scores", json=batch(household(PSEUDONYM, signal("s-1"), team="123456782")),
                           headers=CASEWORKER)
    assert response.status_code == 403 and "123456782" not in response.text
