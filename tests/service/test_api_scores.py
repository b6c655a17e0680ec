"""Scoring over HTTP: every household becomes a review item, scores are explained and persisted, retries are safe."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.service.conftest import (
    MUNICIPALITY,
    OTHER_TEAM,
    TEAM,
    TODAY,
    auth,
    batch,
    household,
    row_counts,
    signal,
)
from vroegsignaal.schemas.enums import ReviewFlag, Role
from vroegsignaal.service.models import AuditRecord, ReviewItem, Score, Signal

CASEWORKER = auth(Role.CASEWORKER)
ADMIN = auth(Role.ADMIN)
ETHICS = auth(Role.ETHICS_REVIEWER)


def test_score_returns_score_reasons_flags_and_a_review_item_per_household(client, engine):
    body = batch(
        household("hh_high_000000001", signal("s-1", amount=6000.0)),
        household("hh_low_0000000002", signal("s-2", partner="water", amount=100.0)),
    )
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 200, response.text
    payload = response.json()
    high, low = payload["results"]
    assert payload["model_version"] == "fake-1" and payload["ordering"] == "model"
    assert high["score"] == 0.6 and high["risk_band"] == "high" and high["suggested_intensity"] == "home_visit"
    assert [f["flag"] for f in high["review_flags"]] == [ReviewFlag.HIGH_RISK.value]
    assert high["reasons"][0]["text_nl"].startswith("Totale achterstand")
    assert low["risk_band"] == "low" and low["suggested_intensity"] == "letter"
    assert high["review_item_id"] != low["review_item_id"]
    assert high["deadline"] == (TODAY + dt.timedelta(days=28)).isoformat()
    counts = row_counts(engine)
    assert counts["scores"] == 2 and counts["review_items"] == 2 and counts["signals"] == 2
    with engine.connect() as connection:
        actions = connection.execute(select(AuditRecord.action, AuditRecord.object_id)).all()
    assert sorted(actions) == [("score", "hh_high_000000001"), ("score", "hh_low_0000000002")]


def test_crisis_signal_gets_three_working_days_and_the_crisis_flag(client):
    # TODAY is a Wednesday: three working days later is Monday.
    body = batch(household("hh_crisis_0000001", signal("s-1", amount=500.0, crisis=True)))
    result = client.post("/v1/scores", json=body, headers=CASEWORKER).json()["results"][0]
    assert result["deadline"] == "2026-03-09"
    assert ReviewFlag.CRISIS.value in [f["flag"] for f in result["review_flags"]]


def test_end_of_supply_signal_gets_three_working_days_as_a_crisis_does(client):
    """Disconnection is a threatening situation (DESIGN): no test ever sent an end-of-supply signal, so its three
    working days could silently become four weeks."""
    body = batch(household("hh_supply_0000001", signal("s-1", partner="energy", amount=300.0, end_of_supply=True)))
    result = client.post("/v1/scores", json=body, headers=CASEWORKER).json()["results"][0]
    assert result["deadline"] == "2026-03-09"
    assert ReviewFlag.END_OF_SUPPLY.value in [f["flag"] for f in result["review_flags"]]


def test_new_signal_updates_the_open_item_instead_of_duplicating_it(client, engine):
    first = client.post("/v1/scores", json=batch(household("hh_repeat_0000001", signal("s-1"))), headers=CASEWORKER)
    second = client.post("/v1/scores", json=batch(household("hh_repeat_0000001", signal("s-2", partner="energy", amount=4000.0))),
                         headers=CASEWORKER)
    assert first.json()["results"][0]["review_item_id"] == second.json()["results"][0]["review_item_id"]
    # the second score counts both partners: the stored rent signal and the new energy signal
    assert second.json()["results"][0]["score"] == 0.5
    counts = row_counts(engine)
    assert counts["review_items"] == 1 and counts["signals"] == 2 and counts["scores"] == 2


def test_retry_with_idempotency_key_returns_the_stored_response_and_writes_nothing_but_its_audit(client, engine):
    body = batch(household("hh_retry_00000001", signal("s-1")))
    headers = {**CASEWORKER, "Idempotency-Key": "batch-2026-03-04-001"}
    first = client.post("/v1/scores", json=body, headers=headers)
    before = row_counts(engine)
    retry = client.post("/v1/scores", json=body, headers=headers)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert row_counts(engine) == {**before, "audit_log": before["audit_log"] + 1}  # served again: audited again
    with engine.connect() as connection:
        served = connection.execute(
            select(AuditRecord.action, AuditRecord.object_id, AuditRecord.model_version, AuditRecord.input_hash)
            .order_by(AuditRecord.seq)
        ).all()
    assert [row.action for row in served] == ["score", "score_replayed"]
    assert served[0][1:] == served[1][1:] == ("hh_retry_00000001", "fake-1", served[0].input_hash)


def test_a_retry_passes_the_team_check_of_a_fresh_request(client, engine):
    # Another team's caseworker retrying with the key got the stored answer (score, reasons, review item) that the
    # same request without the key is refused.
    body = batch(household("hh_retry_00000004", signal("s-1")))
    client.post("/v1/scores", json=body, headers={**CASEWORKER, "Idempotency-Key": "batch-2026-03-04-004"})
    before = row_counts(engine)
    other = auth(Role.CASEWORKER, team=OTHER_TEAM)
    for headers in (other, {**other, "Idempotency-Key": "batch-2026-03-04-004"}):
        refused = client.post("/v1/scores", json=body, headers=headers)
        assert refused.status_code == 403 and "another team" in refused.json()["detail"], refused.text
        assert "score" not in refused.text
    assert row_counts(engine) == before


def test_a_retry_gets_no_advice_the_service_stopped_giving(client, engine):
    headers = {**CASEWORKER, "Idempotency-Key": "batch-2026-03-04-005"}
    body = batch(household("hh_retry_00000005", signal("s-1", amount=9000.0)))
    first = client.post("/v1/scores", json=body, headers=headers).json()
    assert first["results"][0]["approach"] == "model" and first["results"][0]["reasons"]
    # The rule-based order: answered the standard way, as a fresh request in that order is.
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=ADMIN)
    ruled = client.post("/v1/scores", json=body, headers=headers).json()
    assert (ruled["ordering"], ruled["model_version"]) == ("rule", None)
    (result,) = ruled["results"]
    assert (result["approach"], result["standard_reason"], result["score"], result["risk_band"]) == (
        "standard", "rule_order", None, None
    )
    assert result["reasons"] == [] and result["model_version"] is None and result["suggested_intensity"] == "letter"
    assert result["review_item_id"] == first["results"][0]["review_item_id"]
    # Back on the model: the stored answer again.
    client.put("/v1/admin/ordering", json={"mode": "model", "reason": "review done"}, headers=ADMIN)
    assert client.post("/v1/scores", json=body, headers=headers).json() == first
    # A rejected model: its advice is withdrawn, as on the open case itself.
    client.post("/v1/models/fake-1/approval", headers=ETHICS,
                json={"decision": "reject", "comment": "recall ratio of 50+ fell below the gate in use"})
    withdrawn = client.post("/v1/scores", json=body, headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.headers["Idempotent-Replayed"] == "true"
    (result,) = withdrawn.json()["results"]
    assert (result["approach"], result["standard_reason"], result["score"], result["reasons"]) == (
        "standard", "model_withdrawn", None, []
    )


def test_a_retry_answers_a_household_that_objected_as_an_objector_whatever_its_stored_answer_says(client, engine):
    from vroegsignaal.service.models import Objection

    headers = {**CASEWORKER, "Idempotency-Key": "batch-2026-03-04-006"}
    body = batch(household("hh_retry_00000006", signal("s-1", amount=9000.0)))
    assert client.post("/v1/scores", json=body, headers=headers).json()["results"][0]["score"] is not None
    with engine.begin() as connection:  # registered without the rewrite of stored answers (a lost update, say)
        connection.execute(Objection.__table__.insert().values(
            municipality_code=MUNICIPALITY, household_pseudonym="hh_retry_00000006", received_on=TODAY,
            registered_at=dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC), registered_by="user-caseworker",
        ))
    (result,) = client.post("/v1/scores", json=body, headers=headers).json()["results"]
    assert (result["standard_reason"], result["score"], result["reasons"]) == ("objection", None, [])


def test_reused_idempotency_key_with_another_body_is_a_conflict(client, engine):
    headers = {**CASEWORKER, "Idempotency-Key": "batch-2026-03-04-002"}
    client.post("/v1/scores", json=batch(household("hh_retry_00000002", signal("s-1"))), headers=headers)
    before = row_counts(engine)
    response = client.post("/v1/scores", json=batch(household("hh_retry_00000002", signal("s-9"))), headers=headers)
    assert response.status_code == 409
    assert "Idempotency-Key was already used" in response.json()["detail"]
    assert row_counts(engine) == before


def test_retry_without_key_records_the_same_signal_once(client, engine):
    body = batch(household("hh_retry_00000003", signal("s-1")))
    client.post("/v1/scores", json=body, headers=CASEWORKER)
    client.post("/v1/scores", json=body, headers=CASEWORKER)
    counts = row_counts(engine)
    assert counts["signals"] == 1 and counts["review_items"] == 1


def test_same_signal_id_with_other_content_is_refused(client, engine):
    client.post("/v1/scores", json=batch(household("hh_conflict_00001", signal("s-1", amount=10.0))), headers=CASEWORKER)
    before = row_counts(engine)
    response = client.post(
        "/v1/scores", json=batch(household("hh_conflict_00001", signal("s-1", amount=99.0))), headers=CASEWORKER
    )
    assert response.status_code == 409
    assert "households.0.signals.0.signal_id" in response.json()["detail"]
    assert row_counts(engine) == before


def test_every_signal_of_a_full_batch_gets_a_review_item(client, engine):
    pseudonyms = [f"hh_batch_{i:08d}" for i in range(5)]
    body = batch(*(household(p, signal(f"s-{i}", amount=100.0 * i)) for i, p in enumerate(pseudonyms)))
    results = client.post("/v1/scores", json=body, headers=CASEWORKER).json()["results"]
    assert [r["household_id"] for r in results] == pseudonyms
    with engine.connect() as connection:
        items = connection.execute(select(ReviewItem.status)).scalars().all()
        signals = connection.execute(select(Signal.signal_ref)).scalars().all()
    assert items == ["open"] * 5 and sorted(signals) == [f"s-{i}" for i in range(5)]


def test_out_of_distribution_input_is_flagged_with_the_feature(client):
    body = batch(household("hh_ood_0000000001", signal("s-1", amount=60_000.0)))
    flags = client.post("/v1/scores", json=body, headers=CASEWORKER).json()["results"][0]["review_flags"]
    ood = [f for f in flags if f["flag"] == ReviewFlag.OUT_OF_DISTRIBUTION.value]
    assert ood and ood[0]["detail"] == "total_arrears_eur"


def test_control_sample_gets_the_standard_approach_and_the_flag(make_client, engine):
    client = make_client(control_sample_rate=1.0)
    result = client.post(
        "/v1/scores", json=batch(household("hh_control_000001", signal("s-1", amount=9000.0))), headers=CASEWORKER
    ).json()["results"][0]
    assert result["control_sample"] is True and result["approach"] == "standard"
    assert result["standard_reason"] == "control_sample"
    assert result["suggested_intensity"] == "letter"  # the standard approach, although the score is high
    # Blind to its score, as on the list and the household page: no score, band, reasons or high-risk flag.
    assert (result["score"], result["risk_band"], result["reasons"]) == (None, None, [])
    assert [f["flag"] for f in result["review_flags"]] == [ReviewFlag.CONTROL_SAMPLE.value]
    with engine.connect() as connection:
        assert connection.execute(select(Score.score)).scalar_one() == 0.9  # still scored, to measure lift


def test_control_sample_draw_is_stable_across_retries(make_client):
    client = make_client(control_sample_rate=0.5)
    body = batch(*(household(f"hh_draw_{i:09d}", signal(f"s-{i}")) for i in range(5)))
    first = [r["control_sample"] for r in client.post("/v1/scores", json=body, headers=CASEWORKER).json()["results"]]
    second = [r["control_sample"] for r in client.post("/v1/scores", json=body, headers=CASEWORKER).json()["results"]]
    assert first == second


def test_admin_must_name_the_team_of_a_new_household_when_the_token_has_none(client, engine):
    before = row_counts(engine)
    response = client.post("/v1/scores", json=batch(household("hh_team_00000001", signal("s-1"))),
                           headers=auth(Role.ADMIN))
    assert response.status_code == 422 and "households.0.team is required" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "households.0.team"
    assert row_counts(engine) == before
    ok = client.post("/v1/scores", json=batch(household("hh_team_00000001", signal("s-1"), team=TEAM)),
                     headers=auth(Role.ADMIN))
    assert ok.status_code == 200
    # A household on file keeps its team: an admin's next signal for it needs none.
    later = client.post("/v1/scores", json=batch(household("hh_team_00000001", signal("s-2", partner="water"))),
                        headers=auth(Role.ADMIN))
    assert later.status_code == 200, later.text
    assert later.json()["results"][0]["review_item_id"] == ok.json()["results"][0]["review_item_id"]
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert [i["household_id"] for i in listing] == ["hh_team_00000001"]


def test_score_rows_record_the_model_version(client, engine):
    client.post("/v1/scores", json=batch(household("hh_version_000001", signal("s-1"))), headers=CASEWORKER)
    with engine.connect() as connection:
        assert connection.execute(select(Score.model_version)).scalars().all() == ["fake-1"]


def test_municipality_of_the_batch_must_be_the_callers(client, engine):
    before = row_counts(engine)
    response = client.post("/v1/scores", json=batch(household("hh_other_0000001", signal("s-1")),
                                                     municipality="GM0599"), headers=CASEWORKER)
    assert response.status_code == 403 and "municipality_code" in response.json()["detail"]
    assert row_counts(engine) == before
    assert MUNICIPALITY not in response.json()["detail"]
