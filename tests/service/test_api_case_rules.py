"""Rules that span a household's cases, over HTTP: whose team a case is on, objections and the control sample, the
fallback's order after a closed case, and a threat during the cooldown."""

from __future__ import annotations

from sqlalchemy import select

from tests.service.conftest import OTHER_TEAM, TEAM, auth, batch, household, row_counts, signal, spoken_to
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.models import AuditRecord, Decision, ReviewItem

CASEWORKER = auth(Role.CASEWORKER)
OTHER_TEAMS_CASEWORKER = auth(Role.CASEWORKER, team=OTHER_TEAM)
ADMIN = auth(Role.ADMIN)
DECISION = {
    "end_result": "advice_quick_fix",
    "chosen_intensity": "letter",
    "contact_attempts": [{"kind": "letter", "reached": True, "attempted_on": "2026-03-04", "part_of_day": "morning"}],
}
NO_CONTACT = {"end_result": "unjustified_signal", "chosen_intensity": "letter", "contact_attempts": [],
              "departure_reason": "the arrears were paid before we could write"}


def _score(client, *households, headers=CASEWORKER):  # noqa: ANN001, ANN002, ANN202
    response = client.post("/v1/scores", json=batch(*households), headers=headers)
    assert response.status_code == 200, response.text
    return {r["household_id"]: r for r in response.json()["results"]}


def _decide(client, item_id, body=DECISION):  # noqa: ANN001, ANN202
    response = client.post(f"/v1/review-items/{item_id}/decisions", json=body, headers=CASEWORKER)
    assert response.status_code == 201, response.text


def test_a_caseworker_sees_and_files_households_of_their_own_team_only(client, engine):
    _score(client, household("hh_noord_00000001", signal("s-1")))
    assert client.get("/v1/households/hh_noord_00000001", headers=CASEWORKER).status_code == 200
    unknown = client.get("/v1/households/hh_never_here_0001", headers=OTHER_TEAMS_CASEWORKER)
    other = client.get("/v1/households/hh_noord_00000001", headers=OTHER_TEAMS_CASEWORKER)
    assert other.status_code == unknown.status_code == 404 and other.json()["detail"] == unknown.json()["detail"]
    before = row_counts(engine)
    moved = client.post("/v1/scores", json=batch(household("hh_noord_00000001", signal("s-2"))),
                        headers=OTHER_TEAMS_CASEWORKER)
    assert moved.status_code == 403 and "households.0" in moved.json()["detail"]
    filed = client.post("/v1/scores", json=batch(household("hh_new_000000001", signal("s-3"), team=TEAM)),
                        headers=OTHER_TEAMS_CASEWORKER)
    assert filed.status_code == 403 and "households.0.team" in filed.json()["detail"]
    assert row_counts(engine) == before
    with engine.connect() as connection:
        assert connection.execute(select(ReviewItem.team)).scalars().all() == [TEAM]
    # An admin may move a case to another team.
    assert _score(client, household("hh_noord_00000001", signal("s-2"), team=OTHER_TEAM), headers=ADMIN)
    assert client.get("/v1/households/hh_noord_00000001", headers=OTHER_TEAMS_CASEWORKER).status_code == 200


def test_a_new_signal_does_not_move_a_closed_case_to_another_team(client, engine):
    # The household's case is closed: without a check on the team it is on file with, another team's caseworker
    # filed a new signal, took the household (and its decisions' history) to their team, and locked its team out.
    item = _score(client, household("hh_noord_00000002", signal("s-1")))["hh_noord_00000002"]
    _decide(client, item["review_item_id"], NO_CONTACT)
    before = row_counts(engine)
    for body in (household("hh_noord_00000002", signal("s-9")), household("hh_noord_00000002", signal("s-9"), team=OTHER_TEAM)):
        taken = client.post("/v1/scores", json=batch(body), headers=OTHER_TEAMS_CASEWORKER)
        assert taken.status_code == 403, taken.text
        assert "on file with another team" in taken.json()["detail"] and "score" not in taken.text
    assert row_counts(engine) == before
    assert client.get("/v1/households/hh_noord_00000002", headers=OTHER_TEAMS_CASEWORKER).status_code == 404
    assert client.get("/v1/households/hh_noord_00000002", headers=CASEWORKER).status_code == 200
    assert _score(client, household("hh_noord_00000002", signal("s-9")))  # its own team files it


def test_a_resident_who_objected_is_not_in_the_control_sample(make_client, engine):
    client = make_client(control_sample_rate=1.0)
    assert _score(client, household("hh_objects_000001", signal("s-1")))["hh_objects_000001"]["control_sample"]
    client.post("/v1/objections", json={"household_id": "hh_objects_000001", "received_on": "2026-03-04"},
                headers=CASEWORKER)
    with engine.connect() as connection:
        assert connection.execute(select(ReviewItem.control_sample)).scalar_one() is False
    again = _score(client, household("hh_objects_000001", signal("s-2", days_ago=1)))["hh_objects_000001"]
    assert again["control_sample"] is False and again["standard_reason"] == "objection"
    _decide(client, again["review_item_id"])
    groups = {g["group"]: g for g in client.get("/v1/oversight", headers=ADMIN).json()["control_vs_scored"]}
    assert groups["control_sample"]["decisions"] == 0


def test_the_control_sample_is_compared_on_decisions_made_while_the_model_ordered_the_list(make_client):
    # Under the rule-based order every household is handled the standard way: a control-sample decision of that
    # spell was counted, the scored households' decisions of it were not (different periods compared).
    client = make_client(control_sample_rate=1.0, oversight_min_decisions=1)
    first = _score(client, household("hh_control_model1", signal("s-1")))["hh_control_model1"]
    _decide(client, first["review_item_id"])
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    second = _score(client, household("hh_control_rule01", signal("s-2")))["hh_control_rule01"]
    assert second["control_sample"] is True and second["standard_reason"] == "rule_order"
    _decide(client, second["review_item_id"])
    groups = {g["group"]: g for g in client.get("/v1/oversight", headers=ADMIN).json()["control_vs_scored"]}
    assert groups["control_sample"]["decisions"] == 1
    assert groups["control_sample"]["help_accepted_share"] == 1.0  # advice_quick_fix: help accepted


def test_while_a_control_sample_case_is_open_the_history_shows_no_advice_of_earlier_cases(make_client):
    # The scores were withheld, but the earlier case and its decision still showed the suggested intensity: the
    # risk band under another name, read by the caseworker of a case that must be handled blind to it.
    not_drawn = make_client(control_sample_rate=0.0)
    drawn = make_client(control_sample_rate=1.0, seed_status=None)
    first = _score(not_drawn, household("hh_blind_00000001", signal("s-1", amount=9000.0)))["hh_blind_00000001"]
    assert first["suggested_intensity"] == "home_visit"
    _decide(not_drawn, first["review_item_id"], NO_CONTACT)
    second = _score(drawn, household("hh_blind_00000001", signal("s-2", amount=9500.0, days_ago=1)))
    assert second["hh_blind_00000001"]["control_sample"] is True
    history = drawn.get("/v1/households/hh_blind_00000001", headers=CASEWORKER).json()
    assert history["scores"] == []
    assert [i["suggested_intensity"] for i in history["review_items"]] == [None, "letter"]
    [decision] = history["decisions"]
    assert (decision["suggested_intensity"], decision["rank_at_decision"], decision["departed_intensity"]) == (
        None, None, None
    )
    assert decision["chosen_intensity"] == "letter"  # what was done stays
    from tests.pages.conftest import sign_in

    sign_in(drawn, Role.CASEWORKER)
    page = drawn.get("/huishoudens/hh_blind_00000001")
    assert page.status_code == 200 and "advies niet getoond" in page.text
    assert "(advies was" not in page.text and "gewist na bezwaar" not in page.text


def test_an_objection_erases_the_score_a_decision_kept(client, engine):
    item = _score(client, household("hh_objects_000002", signal("s-1")))["hh_objects_000002"]
    _decide(client, item["review_item_id"])
    client.post("/v1/objections", json={"household_id": "hh_objects_000002", "received_on": "2026-03-04"},
                headers=CASEWORKER)
    with engine.connect() as connection:
        kept = connection.execute(select(Decision.score, Decision.band, Decision.model_version)).one()
    assert tuple(kept) == (None, None, None)


def test_an_objection_erases_the_advice_and_the_rank_the_score_gave(client, engine):
    # The suggested first contact of a case the model ordered is its risk band under another name.
    item = _score(client, household("hh_objects_000003", signal("s-1", amount=9000.0)))["hh_objects_000003"]
    assert item["approach"] == "model" and item["suggested_intensity"] == "home_visit"
    _decide(client, item["review_item_id"], {**DECISION, "chosen_intensity": "home_visit",
                                             "contact_attempts": [spoken_to("home_visit")]})
    history = client.get("/v1/households/hh_objects_000003", headers=CASEWORKER).json()
    assert history["decisions"][0]["suggested_intensity"] == "home_visit"
    assert history["decisions"][0]["rank_at_decision"] == 1
    client.post("/v1/objections", json={"household_id": "hh_objects_000003", "received_on": "2026-03-04"},
                headers=CASEWORKER)
    history = client.get("/v1/households/hh_objects_000003", headers=CASEWORKER).json()
    assert history["scores"] == []
    assert [(i["status"], i["suggested_intensity"]) for i in history["review_items"]] == [("closed", None)]
    decision = history["decisions"][0]
    # Beside the contact chosen, "did not depart" would tell the advice again.
    erased = ("suggested_intensity", "rank_at_decision", "departed_intensity", "departed_order")
    assert [decision[field] for field in erased] == [None] * 4
    assert decision["chosen_intensity"] == "home_visit"  # what the caseworker did is theirs, not the model's
    with engine.connect() as connection:
        assert connection.execute(select(*(getattr(Decision, field) for field in erased))).one() == (None,) * 4
    # The team's departure share counts the decisions that still tell whether they departed.
    team = client.get("/v1/oversight", headers=ADMIN).json()["teams"][0]
    assert (team["decisions"], team["departures"], team["departure_share"]) == (0, 0, None)


def test_the_fallback_orders_by_the_oldest_signal_still_waiting(client, clock):
    handled = _score(client, household("hh_handled_000001", signal("s-1", days_ago=60)))["hh_handled_000001"]
    _decide(client, handled["review_item_id"], NO_CONTACT)
    _score(client, household("hh_waiting_000001", signal("s-2", days_ago=20)))
    _score(client, household("hh_handled_000001", signal("s-3", partner="water", days_ago=1)))
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()
    # The closed case's signal of 60 days ago no longer counts: the household waiting 20 days comes first.
    assert [i["household_id"] for i in listing["items"]] == ["hh_waiting_000001", "hh_handled_000001"]


def test_a_crisis_its_closed_case_handled_does_not_make_the_next_case_urgent(client):
    crisis = _score(client, household("hh_crisis_0000001", signal("s-1", days_ago=1, crisis=True)))
    first = crisis["hh_crisis_0000001"]
    assert "crisis" in {flag["flag"] for flag in first["review_flags"]}
    _decide(client, first["review_item_id"], NO_CONTACT)
    later = _score(client, household("hh_crisis_0000001", signal("s-2", partner="water", days_ago=0)))
    second = later["hh_crisis_0000001"]
    assert second["review_item_id"] != first["review_item_id"]
    assert "crisis" not in {flag["flag"] for flag in second["review_flags"]}
    assert second["deadline"] == "2026-04-01"  # four weeks, not three working days


def test_a_new_crisis_signal_is_not_held_back_by_the_cooldown(client, clock):
    item = _score(client, household("hh_cooldown_00002", signal("s-1", amount=1000.0)))["hh_cooldown_00002"]
    _decide(client, item["review_item_id"])
    clock.advance(days=30)
    crisis = _score(client, household("hh_cooldown_00002", signal("s-2", amount=1000.0, days_ago=-25, crisis=True)))
    assert crisis["hh_cooldown_00002"]["held_back_until"] is None
    assert [i["household_id"] for i in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]] == [
        "hh_cooldown_00002"
    ]


def test_a_late_crisis_signal_or_a_correction_adding_the_flag_makes_the_case_urgent(client, clock):
    # The threat reaches the municipality with the signal: a crisis flag on a signal dated over 3 months back gave
    # four weeks, and a correction adding it during the cooldown left the household held back for months.
    late = _score(client, household("hh_late_crisis_01", signal("s-9", amount=1000.0, days_ago=100, crisis=True)))
    assert "crisis" in {flag["flag"] for flag in late["hh_late_crisis_01"]["review_flags"]}
    assert late["hh_late_crisis_01"]["deadline"] == "2026-03-09"  # 3 working days after Wednesday 4 March
    item = _score(client, household("hh_late_crisis_02", signal("s-1", amount=1000.0)))["hh_late_crisis_02"]
    _decide(client, item["review_item_id"])
    clock.advance(days=90)
    correction = signal("s-1c", amount=1000.0, crisis=True) | {"replaces_signal_id": "s-1"}
    corrected = _score(client, household("hh_late_crisis_02", correction))["hh_late_crisis_02"]
    assert corrected["held_back_until"] is None
    assert "crisis" in {flag["flag"] for flag in corrected["review_flags"]}
    listed = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert [(i["household_id"], i["urgent"]) for i in listed if i["household_id"] == "hh_late_crisis_02"] == [
        ("hh_late_crisis_02", True)
    ]


def test_signals_resent_after_their_case_was_closed_do_not_open_a_second_case(client, engine):
    first = _score(client, household("hh_resent_0000001", signal("s-1")))["hh_resent_0000001"]
    _decide(client, first["review_item_id"], NO_CONTACT)
    before = row_counts(engine)
    resent = _score(client, household("hh_resent_0000001", signal("s-1")),
                    household("hh_fresh_00000001", signal("s-9")))
    again, fresh = resent["hh_resent_0000001"], resent["hh_fresh_00000001"]
    assert (again["case_status"], again["review_item_id"]) == ("closed", first["review_item_id"])
    assert [again[key] for key in ("score", "risk_band", "reasons")] == [
        first[key] for key in ("score", "risk_band", "reasons")
    ]
    assert fresh["case_status"] == "open" and fresh["review_item_id"] != first["review_item_id"]
    after = row_counts(engine)
    assert after["review_items"] == before["review_items"] + 1  # the fresh household's only
    assert after["scores"] == before["scores"] + 1
    assert [i["household_id"] for i in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]] == [
        "hh_fresh_00000001"
    ]
    with engine.connect() as connection:
        actions = connection.execute(
            select(AuditRecord.action).where(AuditRecord.object_id.in_(["hh_resent_0000001", "hh_fresh_00000001"]))
            .order_by(AuditRecord.seq)
        ).scalars().all()
    assert actions == ["score", "decision", "signals_resent", "score"]
    # A new signal is new work: it opens a case again.
    new = _score(client, household("hh_resent_0000001", signal("s-1"), signal("s-2", partner="water", days_ago=2)))
    assert new["hh_resent_0000001"]["case_status"] == "open"
    assert new["hh_resent_0000001"]["review_item_id"] not in (first["review_item_id"], fresh["review_item_id"])


def test_a_list_view_records_which_households_it_showed(client, engine):
    _score(client, household("hh_shown_00000001", signal("s-1")), household("hh_shown_00000002", signal("s-2")))
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()
    with engine.connect() as connection:
        detail = connection.execute(
            select(AuditRecord.detail).where(AuditRecord.action == "read_outreach_list")
        ).scalar_one()
    assert sorted(detail["shown"]) == sorted(i["household_id"] for i in listing["items"]) == [
        "hh_shown_00000001", "hh_shown_00000002"
    ]


def test_an_objection_erases_the_score_a_retry_would_get_back(client):
    headers = {**CASEWORKER, "Idempotency-Key": "batch-objects-0003"}
    body = batch(household("hh_objects_000003", signal("s-1")), household("hh_stays_00000003", signal("s-2")))
    first = client.post("/v1/scores", json=body, headers=headers).json()["results"]
    assert first[0]["score"] is not None
    client.post("/v1/objections", json={"household_id": "hh_objects_000003", "received_on": "2026-03-04"},
                headers=CASEWORKER)
    retry = client.post("/v1/scores", json=body, headers=headers)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    objector, other = retry.json()["results"]
    assert (objector["score"], objector["risk_band"], objector["reasons"], objector["model_version"]) == (
        None, None, [], None
    )
    assert objector["approach"] == "standard" and objector["standard_reason"] == "objection"
    assert objector["suggested_intensity"] == "letter" and objector["control_sample"] is False
    assert {flag["flag"] for flag in objector["review_flags"]} <= {"crisis", "end_of_supply"}
    assert other == first[1]


def test_a_resend_after_an_objection_is_answered_the_standard_way(client):
    first = _score(client, household("hh_objects_000004", signal("s-1")))["hh_objects_000004"]
    _decide(client, first["review_item_id"], NO_CONTACT)
    objected = client.post("/v1/objections", json={"household_id": "hh_objects_000004", "received_on": "2026-03-04"},
                           headers=CASEWORKER)
    assert objected.status_code == 201
    resent = _score(client, household("hh_objects_000004", signal("s-1")))["hh_objects_000004"]
    assert (resent["case_status"], resent["review_item_id"]) == ("closed", first["review_item_id"])
    assert (resent["approach"], resent["standard_reason"], resent["score"], resent["reasons"]) == (
        "standard", "objection", None, []
    )


def test_only_reaching_the_household_starts_the_cooldown(client, clock):
    item = _score(client, household("hh_unreached_0001", signal("s-1", amount=1000.0)))["hh_unreached_0001"]
    not_reached = {
        "end_result": "no_contact_possible",
        "chosen_intensity": "letter",
        "contact_attempts": [
            {"kind": "letter", "reached": False, "attempted_on": "2026-03-04", "part_of_day": "morning"},
            {"kind": "administrative", "reached": True, "attempted_on": "2026-03-04", "part_of_day": "afternoon"},
        ],
    }
    _decide(client, item["review_item_id"], not_reached)
    clock.advance(days=30)
    again = _score(client, household("hh_unreached_0001", signal("s-2", amount=1000.0, days_ago=-25)))
    assert again["hh_unreached_0001"]["held_back_until"] is None
    assert [i["household_id"] for i in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]] == [
        "hh_unreached_0001"
    ]


def test_a_listed_household_stays_listed_when_a_later_signal_is_lower(client, clock):
    item = _score(client, household("hh_relisted_00001", signal("s-1", amount=1000.0)))["hh_relisted_00001"]
    _decide(client, item["review_item_id"])
    clock.advance(days=30)
    risen = _score(client, household("hh_relisted_00001", signal("s-2", amount=1500.0, days_ago=-25)))
    assert risen["hh_relisted_00001"]["held_back_until"] is None
    deadline = risen["hh_relisted_00001"]["deadline"]
    clock.advance(days=10)
    lower = _score(client, household("hh_relisted_00001", signal("s-3", amount=900.0, days_ago=-35)))
    assert lower["hh_relisted_00001"]["held_back_until"] is None and lower["hh_relisted_00001"]["deadline"] == deadline
    assert [i["household_id"] for i in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]] == [
        "hh_relisted_00001"
    ]


def test_the_fallback_neither_shows_nor_enforces_the_advice_of_the_model_it_replaced(client):
    scored = _score(client, household("hh_fallback_00001", signal("s-1", amount=8000.0)))["hh_fallback_00001"]
    assert scored["approach"] == "model" and scored["suggested_intensity"] == "home_visit"
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    (listed,) = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert (listed["approach"], listed["standard_reason"], listed["suggested_intensity"]) == (
        "standard", "rule_order", "letter"
    )
    assert listed["score"] is None and listed["risk_band"] is None and listed["reasons"] == []
    (item,) = client.get("/v1/households/hh_fallback_00001", headers=CASEWORKER).json()["review_items"]
    assert (item["approach"], item["suggested_intensity"]) == ("standard", "letter")
    # The standard letter is no departure now: no reason asked, and oversight does not count one.
    _decide(client, scored["review_item_id"], {**DECISION, "chosen_intensity": "letter"})
    history = client.get("/v1/households/hh_fallback_00001", headers=CASEWORKER).json()
    (decision,), (closed,) = history["decisions"], history["review_items"]
    assert decision["departed_intensity"] is False and decision["approach"] == "standard"
    assert (closed["approach"], closed["suggested_intensity"]) == ("standard", "letter")  # as it was decided on


def test_the_history_withholds_the_score_of_an_open_control_sample_case(make_client):
    client = make_client(control_sample_rate=1.0)
    scored = _score(client, household("hh_control_000001", signal("s-1", amount=8000.0)))["hh_control_000001"]
    assert scored["control_sample"] is True
    history = client.get("/v1/households/hh_control_000001", headers=CASEWORKER).json()
    assert history["scores"] == [] and history["review_items"][0]["control_sample"] is True
    _decide(client, scored["review_item_id"], {**DECISION, "departure_reason": None})
    closed = client.get("/v1/households/hh_control_000001", headers=CASEWORKER).json()
    assert len(closed["scores"]) == 1  # the case is decided: its score is history now


def test_signals_resent_for_an_open_case_get_it_back_as_it_stands(client, engine, clock):
    first = _score(client, household("hh_open_resend_01", signal("s-1", amount=9000.0)))["hh_open_resend_01"]
    [seen] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    clock.advance(minutes=5)
    before = row_counts(engine)
    again = _score(client, household("hh_open_resend_01", signal("s-1", amount=9000.0)))["hh_open_resend_01"]
    assert again == first  # the same case, score, reasons and deadline: nothing scored again
    after = row_counts(engine)
    assert after == {**before, "audit_log": before["audit_log"] + 1}
    [listed] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert listed["updated_at"] == seen["updated_at"]
    with engine.connect() as connection:
        detail = connection.execute(
            select(AuditRecord.detail).where(AuditRecord.action == "signals_resent")
        ).scalar_one()
    assert detail["open_review_item_id"] == first["review_item_id"]


def test_a_resend_does_not_give_back_the_advice_of_a_withdrawn_model(client, engine, clock):
    # Scoring the resend again made the case the new model's again without a new signal, and without marking it
    # changed: the decision on the standard advice the caseworker saw was judged against advice they never saw.
    from tests.service.conftest import seed_version
    from vroegsignaal.schemas.enums import ModelStatus

    body = household("hh_withdrawn_0001", signal("s-1", amount=9000.0))
    assert _score(client, body)["hh_withdrawn_0001"]["suggested_intensity"] == "home_visit"
    clock.advance(minutes=1)
    rejected = client.post("/v1/models/fake-1/approval", headers=auth(Role.ETHICS_REVIEWER),
                           json={"decision": "reject", "comment": "recall fell below the gate"})
    assert rejected.status_code == 200
    [seen] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert (seen["approach"], seen["standard_reason"], seen["suggested_intensity"]) == (
        "standard", "model_withdrawn", "letter"
    )
    seed_version(engine, "fake-2", ModelStatus.APPROVED)
    assert client.post("/v1/models/fake-2/promote", json={}, headers=ADMIN).status_code == 200
    clock.advance(minutes=1)
    again = _score(client, body)["hh_withdrawn_0001"]
    assert (again["approach"], again["standard_reason"], again["score"], again["model_version"]) == (
        "standard", "model_withdrawn", None, None
    )
    [listed] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert (listed["approach"], listed["suggested_intensity"], listed["updated_at"]) == (
        "standard", "letter", seen["updated_at"]
    )
    decided = client.post(f"/v1/review-items/{seen['review_item_id']}/decisions", headers=CASEWORKER,
                          json={**NO_CONTACT, "departure_reason": None, "case_updated_at": seen["updated_at"]})
    assert decided.status_code == 201, decided.text
    assert decided.json()["departed_intensity"] is False


def test_a_resend_after_a_withdrawn_objection_scores_nothing_retroactively(client, engine, clock):
    body = household("hh_withdrew_00001", signal("s-1", amount=9000.0))
    _score(client, body)
    clock.advance(minutes=1)
    objection = {"household_id": "hh_withdrew_00001", "received_on": "2026-03-04"}
    assert client.post("/v1/objections", json=objection, headers=CASEWORKER).status_code == 201
    clock.advance(minutes=1)
    assert client.delete("/v1/objections/hh_withdrew_00001", headers=CASEWORKER).status_code == 200
    scores_before = row_counts(engine)["scores"]
    again = _score(client, body)["hh_withdrew_00001"]
    assert (again["approach"], again["standard_reason"], again["score"]) == ("standard", "objection", None)
    assert row_counts(engine)["scores"] == scores_before
    outreach = client.get("/v1/outreach", headers=CASEWORKER).json()
    assert outreach["items"] == [] and [i["standard_reason"] for i in outreach["standard_approach"]] == ["objection"]
    # The next signal is scored again.
    new = _score(client, household("hh_withdrew_00001", signal("s-2", partner="water", days_ago=2)))
    assert new["hh_withdrew_00001"]["score"] is not None


def test_a_resend_in_the_rule_based_order_is_answered_the_standard_way_as_the_list_shows_it(client, engine):
    body = household("hh_rule_resend_01", signal("s-1", amount=9000.0))
    assert _score(client, body)["hh_rule_resend_01"]["approach"] == "model"
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    scores_before = row_counts(engine)["scores"]
    again = _score(client, body)["hh_rule_resend_01"]
    assert (again["approach"], again["standard_reason"], again["score"], again["suggested_intensity"]) == (
        "standard", "rule_order", None, "letter"
    )
    assert row_counts(engine)["scores"] == scores_before
    [listed] = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert (listed["approach"], listed["standard_reason"]) == ("standard", "rule_order")
    with engine.connect() as connection:  # the audit record says what was served: no model's advice
        served = connection.execute(
            select(AuditRecord.model_version).where(AuditRecord.action == "signals_resent")
        ).scalar_one()
    assert served is None


def test_a_resend_in_the_control_sample_stays_blind_to_the_score(make_client):
    client = make_client(control_sample_rate=1.0)
    body = household("hh_control_resend", signal("s-1", amount=9000.0))
    first = _score(client, body)["hh_control_resend"]
    assert (first["control_sample"], first["score"]) == (True, None)
    again = _score(client, body)["hh_control_resend"]
    assert again == first
    _decide(client, first["review_item_id"], NO_CONTACT)
    closed = _score(client, body)["hh_control_resend"]  # the closed case's answer showed the stored score
    assert (closed["case_status"], closed["score"], closed["risk_band"], closed["reasons"]) == ("closed", None, None, [])
