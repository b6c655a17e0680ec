"""The outreach list, decisions, objections, cooldown and the rule-based fallback, over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.service.conftest import TODAY, auth, batch, household, row_counts, signal
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.decisions import MSG_ATTEMPT_BEFORE_CASE, MSG_RESULT_NEEDS_ATTEMPT
from vroegsignaal.service.models import AuditRecord, Score
from vroegsignaal.service.oversight import MSG_AUTOMATION_BIAS

CASEWORKER = auth(Role.CASEWORKER)
ADMIN = auth(Role.ADMIN)


def _score(client, *households):  # noqa: ANN001, ANN202
    response = client.post("/v1/scores", json=batch(*households), headers=CASEWORKER)
    assert response.status_code == 200, response.text
    return {r["household_id"]: r for r in response.json()["results"]}


def _decide(client, item_id, **overrides):  # noqa: ANN001, ANN202
    body = {
        "end_result": "advice_quick_fix",
        "chosen_intensity": "letter",
        "contact_attempts": [{"kind": "letter", "reached": True, "attempted_on": TODAY.isoformat(),
                              "part_of_day": "morning"}],
        **overrides,
    }
    return client.post(f"/v1/review-items/{item_id}/decisions", json=body, headers=CASEWORKER)


def test_list_puts_crisis_first_then_higher_scores(client):
    _score(
        client,
        household("hh_low_0000000001", signal("s-1", amount=1000.0)),
        household("hh_high_000000001", signal("s-2", amount=8000.0)),
        household("hh_crisis_0000001", signal("s-3", amount=300.0, crisis=True)),
    )
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()
    assert [i["household_id"] for i in listing["items"]] == ["hh_crisis_0000001", "hh_high_000000001",
                                                             "hh_low_0000000001"]
    assert [i["rank"] for i in listing["items"]] == [1, 2, 3]


def test_overdue_item_moves_up_and_is_marked(client, clock):
    _score(client, household("hh_old_0000000001", signal("s-1", amount=100.0)))
    clock.advance(days=10)
    _score(client, household("hh_new_0000000001", signal("s-2", amount=9000.0, days_ago=0)))
    clock.advance(days=20)  # the first item's 28 days have passed, the second's not
    items = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert [(i["household_id"], i["overdue"]) for i in items] == [("hh_old_0000000001", True),
                                                                  ("hh_new_0000000001", False)]


def test_rule_based_fallback_orders_by_oldest_signal_and_stops_using_the_model(client, engine):
    _score(
        client,
        household("hh_recent_0000001", signal("s-1", amount=9000.0, days_ago=5)),
        household("hh_older_00000001", signal("s-2", amount=100.0, days_ago=40)),
    )
    switched = client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    assert switched.status_code == 200 and switched.json()["changed_by"] == "user-admin"
    items = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert [i["household_id"] for i in items] == ["hh_older_00000001", "hh_recent_0000001"]
    scores_before = row_counts(engine)["scores"]
    result = _score(client, household("hh_during_rule_01", signal("s-3", amount=5000.0)))["hh_during_rule_01"]
    assert result["score"] is None and result["standard_reason"] == "rule_order"
    assert row_counts(engine)["scores"] == scores_before
    with engine.connect() as connection:
        detail = connection.execute(
            select(AuditRecord.detail).where(AuditRecord.action == "ordering_switch")
        ).scalar_one()
    # The audit log keeps why (the switch's own row is overwritten by the next switch).
    assert detail == {"from": "model", "to": "rule", "reason": "model under review"}


def test_rule_based_fallback_puts_overdue_cases_before_older_signals(client, clock):
    """Crisis and overdue first, in the rule order too: an overdue case waited behind households whose first
    signal was older."""
    _score(client, household("hh_overdue_000001", signal("s-1", amount=100.0, days_ago=5)))
    clock.advance(days=30)  # its four weeks have passed
    _score(client, household("hh_oldsignal_0001", signal("s-2", amount=100.0, days_ago=200)))
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    items = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert [(i["household_id"], i["overdue"]) for i in items] == [("hh_overdue_000001", True),
                                                                  ("hh_oldsignal_0001", False)]


def test_objected_household_is_never_scored_or_ranked_but_still_offered_help(client, engine):
    _score(client, household("hh_objector_00001", signal("s-1", amount=9000.0)))
    objection = client.post("/v1/objections", json={"household_id": "hh_objector_00001", "received_on": "2026-03-02"},
                            headers=CASEWORKER)
    assert objection.status_code == 201 and objection.json()["active"] is True
    with engine.connect() as connection:
        assert connection.execute(select(Score.id)).all() == []  # erased on objection
    result = _score(client, household("hh_objector_00001", signal("s-2", partner="energy", amount=200.0)))
    only = result["hh_objector_00001"]
    assert only["score"] is None and only["standard_reason"] == "objection" and only["reasons"] == []
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()
    assert listing["items"] == []
    assert [i["household_id"] for i in listing["standard_approach"]] == ["hh_objector_00001"]
    assert row_counts(engine)["scores"] == 0


def test_an_objection_received_after_today_is_refused(client, engine):
    before = row_counts(engine)
    response = client.post("/v1/objections", json={"household_id": "hh_objector_00002", "received_on": "2030-01-01"},
                           headers=CASEWORKER)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "received_on"
    assert f"must not be after today ({TODAY}) (got '2030-01-01')" in response.json()["detail"]
    assert row_counts(engine) == before


def test_withdrawn_objection_lets_the_next_signal_be_scored(client):
    client.post("/v1/objections", json={"household_id": "hh_changes_mind01", "received_on": "2026-03-01"},
                headers=CASEWORKER)
    withdrawn = client.delete("/v1/objections/hh_changes_mind01", headers=CASEWORKER)
    assert withdrawn.status_code == 200 and withdrawn.json()["active"] is False
    result = _score(client, household("hh_changes_mind01", signal("s-1", amount=3000.0)))["hh_changes_mind01"]
    assert result["score"] == 0.3


def test_decision_closes_the_item_and_a_retry_returns_the_same_decision(client, engine):
    item = _score(client, household("hh_decide_0000001", signal("s-1", amount=100.0)))["hh_decide_0000001"]
    first = _decide(client, item["review_item_id"])
    assert first.status_code == 201 and first.json()["departed_intensity"] is False
    before = row_counts(engine)
    retry = _decide(client, item["review_item_id"])
    assert retry.status_code == 200 and retry.json() == first.json()
    assert row_counts(engine) == before
    assert client.get("/v1/outreach", headers=CASEWORKER).json()["items"] == []


def test_a_decision_must_date_its_attempts_within_the_case_and_agree_with_them(client, engine):
    # The case's first signal is 10 days old: a contact a year earlier is not about this case (it would also
    # start no cooldown), and "no contact possible" contradicts an attempt that reached the resident.
    item = _score(client, household("hh_dates_00000001", signal("s-1", days_ago=10)))["hh_dates_00000001"]
    before = row_counts(engine)
    early = _decide(client, item["review_item_id"], contact_attempts=[
        {"kind": "phone", "reached": True, "attempted_on": "2025-03-04", "part_of_day": "morning"}
    ])
    assert early.status_code == 422
    first_signal = TODAY - dt.timedelta(days=10)
    assert early.json()["errors"][0]["field"] == "contact_attempts.0.attempted_on"
    assert MSG_ATTEMPT_BEFORE_CASE.format(first=first_signal) in early.json()["detail"]
    assert "(got '2025-03-04')" in early.json()["detail"]
    contradiction = _decide(client, item["review_item_id"], end_result="no_contact_possible")
    assert contradiction.status_code == 422
    assert contradiction.json()["errors"][0]["field"] == "end_result"
    assert "'no_contact_possible' says the resident was not reached" in contradiction.json()["detail"]
    assert row_counts(engine) == before
    unreached = [{"kind": "letter", "reached": False, "attempted_on": TODAY.isoformat(), "part_of_day": "morning"}]
    assert _decide(client, item["review_item_id"], end_result="no_contact_possible",
                   contact_attempts=unreached).status_code == 201


@pytest.mark.parametrize("end_result", ["declines_help", "advice_quick_fix", "financial_follow_up",
                                        "non_financial_follow_up", "no_response_after_contact"])
def test_a_result_from_a_conversation_needs_the_attempt_that_reached_the_resident(client, engine, end_result):
    # Without it the household would count as not reached in oversight, and the export would drop its label.
    # "No response after contact" too: the resident was reached, and did not respond after that.
    pseudonym = f"hh_spoken_{end_result[:7]}"
    item = _score(client, household(pseudonym, signal("s-1", days_ago=10)))[pseudonym]
    before = row_counts(engine)
    on_paper = [
        {"kind": "letter", "reached": False, "attempted_on": TODAY.isoformat(), "part_of_day": "morning"},
        {"kind": "administrative", "reached": True, "attempted_on": TODAY.isoformat(), "part_of_day": "morning"},
    ]
    for attempts in ([], on_paper):
        refused = _decide(client, item["review_item_id"], end_result=end_result, contact_attempts=attempts)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "end_result"
        assert f"'{end_result}' says the resident was spoken to, but no contact attempt reached them" in (
            refused.json()["detail"])
        assert row_counts(engine) == before
    spoken = [*on_paper, {"kind": "phone", "reached": True, "attempted_on": TODAY.isoformat(),
                          "part_of_day": "afternoon"}]
    assert _decide(client, item["review_item_id"], end_result=end_result,
                   contact_attempts=spoken).status_code == 201


def test_no_contact_possible_needs_an_attempt_to_reach_the_resident(client, engine):
    # A caseworker closes a case as unreachable only after trying: an administrative step is no try.
    item = _score(client, household("hh_untried_000001", signal("s-1", days_ago=10)))["hh_untried_000001"]
    before = row_counts(engine)
    paperwork = {"kind": "administrative", "reached": False, "attempted_on": TODAY.isoformat(),
                 "part_of_day": "morning"}
    for attempts in ([], [paperwork]):
        refused = _decide(client, item["review_item_id"], end_result="no_contact_possible",
                          contact_attempts=attempts)
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["end_result"]
        assert MSG_RESULT_NEEDS_ATTEMPT.format(result="no_contact_possible") in refused.json()["detail"]
        assert "(got 'no_contact_possible')" in refused.json()["detail"]
        assert row_counts(engine) == before
    card = {**paperwork, "kind": "card"}  # a card through the door nobody answered
    assert _decide(client, item["review_item_id"], end_result="no_contact_possible",
                   contact_attempts=[paperwork, card]).status_code == 201


def test_a_decision_on_a_case_that_changed_since_it_was_read_is_refused(client, engine, clock):
    pseudonym = "hh_changed_000001"
    _score(client, household(pseudonym, signal("s-1", amount=500.0)))
    [seen] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    clock.advance(minutes=5)  # meanwhile a crisis signal comes in for the same household
    _score(client, household(pseudonym, signal("s-2", partner="energy", amount=300.0, crisis=True)))
    before = row_counts(engine)
    stale = _decide(client, seen["review_item_id"], case_updated_at=seen["updated_at"])
    assert stale.status_code == 409
    assert stale.json()["detail"].startswith(
        f"field 'case_updated_at': review item {seen['review_item_id']} changed at 2026-03-04T12:05:00+00:00 after "
        "the version you saw (2026-03-04T12:00:00+00:00)")
    assert row_counts(engine) == before
    [now_seen] = client.get(f"/v1/households/{pseudonym}", headers=CASEWORKER).json()["review_items"]
    assert now_seen["updated_at"] != seen["updated_at"]
    clock.advance(minutes=5)  # the same signals sent again change nothing the caseworker decides on
    _score(client, household(pseudonym, signal("s-1", amount=500.0),
                             signal("s-2", partner="energy", amount=300.0, crisis=True)))
    [resent] = client.get(f"/v1/households/{pseudonym}", headers=CASEWORKER).json()["review_items"]
    assert resent["updated_at"] == now_seen["updated_at"]
    without_zone = _decide(client, seen["review_item_id"], case_updated_at="2026-03-04T12:05:00")
    assert without_zone.status_code == 422 and without_zone.json()["errors"][0]["field"] == "case_updated_at"
    decided = _decide(client, seen["review_item_id"], case_updated_at=now_seen["updated_at"])
    assert decided.status_code == 201
    retried = _decide(client, seen["review_item_id"], case_updated_at=now_seen["updated_at"])
    assert retried.status_code == 200 and retried.json() == decided.json()
    # The version seen is a precondition, not part of the decision: a retry without it is the same decision.
    assert _decide(client, seen["review_item_id"]).status_code == 200


def test_switching_the_order_marks_every_open_case_changed(client, clock):
    pseudonym = "hh_switched_00001"
    _score(client, household(pseudonym, signal("s-1", amount=9000.0)))
    [seen] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert seen["approach"] == "model"
    clock.advance(minutes=1)
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    stale = _decide(client, seen["review_item_id"], case_updated_at=seen["updated_at"],
                    chosen_intensity=seen["suggested_intensity"])
    assert stale.status_code == 409 and "field 'case_updated_at'" in stale.json()["detail"]
    [now_seen] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    clock.advance(minutes=1)  # switching to the order already in force changes no advice
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "still under review"}, headers=ADMIN)
    [again] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert again["updated_at"] == now_seen["updated_at"] != seen["updated_at"]


def test_departure_with_reason_is_recorded_and_reported_in_oversight(client):
    item = _score(client, household("hh_depart_0000001", signal("s-1", amount=9000.0)))["hh_depart_0000001"]
    decided = _decide(client, item["review_item_id"], chosen_intensity="phone",
                      departure_reason="resident prefers a phone call")
    assert decided.status_code == 201 and decided.json()["departed_intensity"] is True
    report = client.get("/v1/oversight", headers=ADMIN).json()
    team = report["teams"][0]
    assert (team["decisions"], team["departures"], team["departure_share"]) == (1, 1, 1.0)
    scored = [g for g in report["control_vs_scored"] if g["group"] == "scored"][0]
    # One decision is too few to compare (OVERSIGHT_MIN_DECISIONS): counted, no share shown.
    assert scored["decisions"] == 1 and scored["help_accepted_share"] is None and scored["reached_share"] is None


def test_oversight_counts_departures_only_where_the_model_gave_advice(make_client):
    # The control sample and the other standard approaches have no model advice to depart from: a caseworker who
    # calls a control-sample household instead of writing departed from no model, and one who writes to a household
    # that objected followed none. Counted, they hid a team that followed the model's advice every time.
    scored = make_client(oversight_min_decisions=1)
    drawn = make_client(control_sample_rate=1.0, seed_status=None)
    advised = _score(scored, household("hh_advised_000001", signal("s-1", amount=9000.0)))["hh_advised_000001"]
    assert _decide(scored, advised["review_item_id"],
                   chosen_intensity=advised["suggested_intensity"]).status_code == 201
    control = _score(drawn, household("hh_control_000001", signal("s-2")))["hh_control_000001"]
    assert control["control_sample"] is True
    assert _decide(drawn, control["review_item_id"], chosen_intensity="phone",
                   departure_reason="resident asked for a call").json()["departed_intensity"] is True
    scored.post("/v1/objections", json={"household_id": "hh_objector_00003", "received_on": TODAY.isoformat()},
                headers=CASEWORKER)
    objector = _score(scored, household("hh_objector_00003", signal("s-3")))["hh_objector_00003"]
    assert objector["standard_reason"] == "objection"
    assert _decide(scored, objector["review_item_id"]).status_code == 201  # a letter: the standard approach
    [team] = scored.get("/v1/oversight", headers=ADMIN).json()["teams"]
    assert (team["decisions"], team["departures"], team["departure_share"]) == (1, 0, 0.0)
    assert (team["intensity_departures"], team["order_departures"]) == (0, 0)
    assert team["warning"] == MSG_AUTOMATION_BIAS.format(share=0.0, n=1)


def test_contacted_household_is_held_back_unless_arrears_rise(client, clock):
    item = _score(client, household("hh_cooldown_00001", signal("s-1", amount=1000.0)))["hh_cooldown_00001"]
    assert _decide(client, item["review_item_id"]).status_code == 201
    clock.advance(days=30)
    same = _score(client, household("hh_cooldown_00001", signal("s-2", amount=1000.0, days_ago=-25)))
    assert same["hh_cooldown_00001"]["held_back_until"] == "2026-09-02"  # contact date + 182 days
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()
    assert listing["items"] == [] and listing["held_back_count"] == 1
    higher = _score(client, household("hh_cooldown_00001",
                                      signal("s-3", partner="energy", amount=500.0, days_ago=-26)))
    assert higher["hh_cooldown_00001"]["held_back_until"] is None
    assert len(client.get("/v1/outreach", headers=CASEWORKER).json()["items"]) == 1


def test_a_held_back_household_is_listed_again_once_its_cooldown_ends(client, clock):
    """The hold ends: a household whose new signal was held back is on the list again after that date (no signal
    is dropped for good), and a decision on it while held needs a reason."""
    item = _score(client, household("hh_cooldown_00002", signal("s-1", amount=1000.0)))["hh_cooldown_00002"]
    assert _decide(client, item["review_item_id"]).status_code == 201
    clock.advance(days=30)
    held = _score(client, household("hh_cooldown_00002", signal("s-2", amount=1000.0, days_ago=-25)))
    held_item = held["hh_cooldown_00002"]
    assert held_item["held_back_until"] == "2026-09-02"
    later = [{"kind": "phone", "reached": True, "attempted_on": "2026-04-03", "part_of_day": "morning"}]
    refused = _decide(client, held_item["review_item_id"], contact_attempts=later)
    assert refused.status_code == 422 and "held back by the cooldown" in refused.json()["detail"]
    clock.advance(days=153)  # the day after the hold ends (2026-09-02)
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()
    assert [i["household_id"] for i in listing["items"]] == ["hh_cooldown_00002"]
    # Its first conversation is due four weeks after the hold ended, not counted from before it.
    assert listing["held_back_count"] == 0 and listing["items"][0]["overdue"] is False
    assert listing["items"][0]["deadline"] >= "2026-09-30"


def test_order_departure_needs_a_reason_beyond_the_tolerance(make_client):
    client = make_client(order_tolerance=1)
    scored = _score(
        client,
        household("hh_first_00000001", signal("s-1", amount=5000.0)),
        household("hh_second_0000001", signal("s-2", amount=1000.0)),
    )
    second = scored["hh_second_0000001"]["review_item_id"]
    refused = _decide(client, second)
    assert refused.status_code == 422 and "position 2 of the list" in refused.json()["detail"]
    accepted = _decide(client, second, departure_reason="resident called in herself")
    assert accepted.status_code == 201 and accepted.json()["departed_order"] is True


def test_household_history_shows_everything_and_is_audited(client, engine):
    item = _score(client, household("hh_history_000001", signal("s-1", amount=700.0)))["hh_history_000001"]
    _decide(client, item["review_item_id"])
    history = client.get("/v1/households/hh_history_000001", headers=CASEWORKER).json()
    assert [s["signal_id"] for s in history["signals"]] == ["s-1"]
    assert len(history["scores"]) == 1 and history["decisions"][0]["end_result"] == "advice_quick_fix"
    assert history["review_items"][0]["status"] == "closed"
    with engine.connect() as connection:
        reads = connection.execute(
            select(AuditRecord.object_id).where(AuditRecord.action == "read_household")
        ).scalars().all()
    assert reads == ["hh_history_000001"]
