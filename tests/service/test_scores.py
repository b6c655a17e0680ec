"""Scoring's reads and writes (``service/scores.py``, ``service/score_store.py``): what the combined reads
must still find, and concurrent batches for one household."""

from __future__ import annotations

import threading

from sqlalchemy import select

from tests.service.conftest import TODAY, auth, batch, household, row_counts, signal, spoken_to
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.audit import verify_audit_log
from vroegsignaal.service.db import create_session_factory, transaction
from vroegsignaal.service.models import ReviewItem, Score
from vroegsignaal.service.scores import MSG_SIGNAL_CONFLICT

CASEWORKER = auth(Role.CASEWORKER)
#: The part of the conflict message before the signal's position.
CONFLICT_FIELD = MSG_SIGNAL_CONFLICT.split("{")[0]


def _score(client, *households):  # noqa: ANN001, ANN202
    response = client.post("/v1/scores", json=batch(*households), headers=CASEWORKER)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_objection_that_came_before_the_first_signal_keeps_the_household_unscored(client, engine):
    objection = {"household_id": "hh_early_objector", "received_on": TODAY.isoformat()}
    assert client.post("/v1/objections", json=objection, headers=CASEWORKER).status_code == 201
    [result] = _score(client, household("hh_early_objector", signal("s-1", amount=9000.0)))
    assert result["score"] is None and result["standard_reason"] == "objection"
    assert row_counts(engine)["scores"] == 0 and row_counts(engine)["review_items"] == 1


def test_signal_id_of_another_household_is_refused_without_echoing_it(client, engine):
    _score(client, household("hh_first_owner_01", signal("woco-0001", amount=500.0)))
    before = row_counts(engine)
    body = batch(household("hh_other_owner_01", signal("woco-0001", amount=500.0)))
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail.startswith(CONFLICT_FIELD) and "households.0.signals.0.signal_id" in detail
    assert "woco-0001" not in detail and "hh_other_owner_01" not in detail
    assert row_counts(engine) == before


def test_earlier_signals_of_a_household_count_and_a_resent_one_is_stored_once(client, engine):
    _score(client, household("hh_history_00001", signal("s-1", amount=2000.0)))
    resent_and_new = (signal("s-1", amount=2000.0), signal("s-2", partner="water", amount=500.0))
    [again] = _score(client, household("hh_history_00001", *resent_and_new))
    assert again["score"] == 0.25  # the fake scores total arrears: rent 2000 + water 500
    assert row_counts(engine)["signals"] == 2


def test_a_decided_item_is_not_reopened_and_the_next_signal_opens_a_new_one(client, engine):
    [first] = _score(client, household("hh_reopen_000001", signal("s-1", amount=100.0)))
    decision = {"end_result": "advice_quick_fix", "chosen_intensity": first["suggested_intensity"],
                "contact_attempts": [spoken_to()]}
    item_url = f"/v1/review-items/{first['review_item_id']}/decisions"
    decided = client.post(item_url, json=decision, headers=CASEWORKER)
    assert decided.status_code == 201
    [second] = _score(client, household("hh_reopen_000001", signal("s-2", amount=100.0)))
    assert second["review_item_id"] != first["review_item_id"]
    with engine.connect() as connection:
        statuses = connection.execute(select(ReviewItem.status).order_by(ReviewItem.id)).scalars().all()
    assert statuses == ["closed", "open"]


def test_concurrent_batches_for_one_household_keep_one_open_item_and_an_unbroken_chain(client, engine):
    bodies = [batch(household("hh_busy_00000001", signal(f"s-{i}", amount=100.0 + i))) for i in range(6)]
    statuses: list[int] = []

    def send(body: dict) -> None:
        statuses.append(client.post("/v1/scores", json=body, headers=CASEWORKER).status_code)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(bodies)
    with engine.connect() as connection:
        open_items = connection.execute(select(ReviewItem.id).where(ReviewItem.status == "open")).all()
        scores = connection.execute(select(Score.id)).all()
    assert len(open_items) == 1 and len(scores) == len(bodies)
    with transaction(create_session_factory(engine)) as session:
        verification = verify_audit_log(session)
    assert verification.ok and verification.records_checked == len(bodies)
