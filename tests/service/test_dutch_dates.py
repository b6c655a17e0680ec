"""At night the service's "today" is the Dutch date, not the UTC one.

Between midnight and 01:00 (02:00 in summer) Dutch time the UTC date is still yesterday. A night batch of the day's
signals must be accepted, its deadlines must count from the Dutch date, and a contact recorded that night is not
"in the future".
"""

from __future__ import annotations

import datetime as dt

from tests.service.conftest import auth, batch, household, row_counts, signal
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.deadlines import first_contact_deadline

CASEWORKER = auth(Role.CASEWORKER)
#: 00:30 on Thursday 11 June 2026 in Amsterdam (summer time), still 10 June in UTC.
AFTER_DUTCH_MIDNIGHT = dt.datetime(2026, 6, 10, 22, 30, tzinfo=dt.UTC)
#: 23:30 on Wednesday 10 June 2026 in Amsterdam.
BEFORE_DUTCH_MIDNIGHT = dt.datetime(2026, 6, 10, 21, 30, tzinfo=dt.UTC)
JUNE_10, JUNE_11 = dt.date(2026, 6, 10), dt.date(2026, 6, 11)


def _signal_on(signal_id: str, day: dt.date, *, crisis: bool = False) -> dict:
    return {
        **signal(signal_id, crisis=crisis),
        "signal_date": day.isoformat(),
        "arrears_start_date": (day - dt.timedelta(days=45)).isoformat(),
    }


def test_a_night_batch_of_todays_signals_is_accepted_and_its_deadlines_count_from_the_dutch_date(client, clock):
    clock.now = AFTER_DUTCH_MIDNIGHT
    body = batch(
        household("hh_night_00000001", _signal_on("s-1", JUNE_11)),
        household("hh_night_00000002", _signal_on("s-2", JUNE_11, crisis=True)),
    )
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 200, response.text
    deadlines = {r["household_id"]: r["deadline"] for r in response.json()["results"]}

    def due(start: dt.date, *, urgent: bool) -> str:
        return first_contact_deadline(start, urgent=urgent, calendar_days=28, urgent_working_days=3).isoformat()

    assert deadlines == {"hh_night_00000001": due(JUNE_11, urgent=False), "hh_night_00000002": due(JUNE_11, urgent=True)}
    assert due(JUNE_11, urgent=True) != due(JUNE_10, urgent=True)  # the test would notice a UTC date


def test_before_dutch_midnight_tomorrows_signal_is_refused(client, clock, engine):
    clock.now = BEFORE_DUTCH_MIDNIGHT
    before = row_counts(engine)
    body = batch(household("hh_night_00000003", _signal_on("s-3", JUNE_11)))
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "households.0.signals.0.signal_date" in detail and JUNE_10.isoformat() in detail
    assert row_counts(engine) == before


def test_a_contact_recorded_after_dutch_midnight_may_carry_the_dutch_date(client, clock):
    clock.now = AFTER_DUTCH_MIDNIGHT
    scored = client.post(
        "/v1/scores", json=batch(household("hh_night_00000004", _signal_on("s-4", JUNE_10))), headers=CASEWORKER
    )
    item_id = scored.json()["results"][0]["review_item_id"]
    decision = {
        "end_result": "advice_quick_fix",
        "chosen_intensity": "letter",
        "contact_attempts": [
            {"kind": "letter", "reached": True, "attempted_on": JUNE_11.isoformat(), "part_of_day": "evening"}
        ],
    }
    response = client.post(f"/v1/review-items/{item_id}/decisions", json=decision, headers=CASEWORKER)
    assert response.status_code in (200, 201), response.text


def test_an_item_is_overdue_from_dutch_midnight_after_its_deadline(client, clock):
    clock.now = AFTER_DUTCH_MIDNIGHT - dt.timedelta(days=29)  # 00:30 on 13 May, Dutch time
    client.post("/v1/scores", json=batch(household("hh_night_00000005", _signal_on("s-5", dt.date(2026, 5, 13)))),
                headers=CASEWORKER)
    clock.now = BEFORE_DUTCH_MIDNIGHT  # 23:30 on 10 June: the deadline (10 June) is today
    assert [i["overdue"] for i in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]] == [False]
    clock.now = AFTER_DUTCH_MIDNIGHT  # 00:30 on 11 June: a day late, though UTC still says 10 June
    assert [i["overdue"] for i in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]] == [True]
