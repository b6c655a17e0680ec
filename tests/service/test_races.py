"""Requests that meet on one household from two replicas at once (PostgreSQL; on SQLite one transaction writes at a
time, and the same tests hold trivially).

Each test pauses one transaction at a chosen statement (an ``after_cursor_execute`` hook), lets the other request
run meanwhile for up to a second, and then checks the outcome both orders must give.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, select, update

from tests.service.conftest import auth, batch, household, make_settings, seed_version, signal, spoken_to
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service import commands
from vroegsignaal.service.models import Decision, Household, ModelVersion, ReviewItem, Score, ScoreSubmission, Signal

CASEWORKER = auth(Role.CASEWORKER)
DECISION = {"end_result": "declines_help", "chosen_intensity": "letter",
            "contact_attempts": [spoken_to()], "departure_reason": "declined on the phone"}


@contextmanager
def meanwhile(client, pause_at: Callable[[str], bool], other: Callable[[], None]) -> Iterator[None]:  # noqa: ANN001
    """While the block runs: right after the first statement ``pause_at`` picks, start ``other`` in a thread and
    give it a second before going on. On SQLite the scoring request's statements bypass SQLAlchemy's events
    (``service/hot_sql.py``) and one transaction writes at a time anyway: there ``other`` runs after the block."""
    engine: Engine = client.app.state.services.engine
    started: list[threading.Thread] = []

    def pause(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        if not started and pause_at(statement):
            started.append(threading.Thread(target=other))
            started[0].start()
            started[0].join(timeout=1.0)

    event.listen(engine, "after_cursor_execute", pause)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", pause)
        for thread in started:
            thread.join(timeout=30)
    if engine.dialect.name == "postgresql":
        assert started, "the pause never happened"
    elif not started:
        other()


def _score(client, body) -> dict:  # noqa: ANN001
    response = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert response.status_code == 200, response.text
    return response.json()["results"][0]


def test_a_signal_arriving_during_a_decision_opens_a_new_case(client, engine):
    first = _score(client, batch(household("hh_race_decide_01", signal("s-1"))))
    answers: list[dict] = []

    def new_crisis_signal() -> None:
        answers.append(_score(client, batch(household("hh_race_decide_01", signal("s-2", days_ago=1, crisis=True)))))

    def item_locked(statement: str) -> bool:
        return "FROM review_items" in statement and "FOR UPDATE" in statement

    with meanwhile(client, item_locked, new_crisis_signal):
        decided = client.post(f"/v1/review-items/{first['review_item_id']}/decisions", json=DECISION,
                              headers=CASEWORKER)
        assert decided.status_code == 201, decided.text
    [answer] = answers
    # Without the household's lock the signal landed on the case being closed: no open case, the crisis on no list.
    assert answer["review_item_id"] != first["review_item_id"] and answer["case_status"] == "open"
    with engine.connect() as connection:
        items = connection.execute(select(ReviewItem.status, ReviewItem.crisis).order_by(ReviewItem.id)).all()
    assert [tuple(item) for item in items] == [("closed", False), ("open", True)]


def test_an_objection_registered_while_a_household_is_scored_leaves_no_score(client, engine):
    statuses: list[int] = []

    def object_now() -> None:
        objection = {"household_id": "hh_race_object_01", "received_on": "2026-03-04"}
        statuses.append(client.post("/v1/objections", json=objection, headers=CASEWORKER).status_code)

    with meanwhile(client, lambda statement: "INSERT INTO scores" in statement, object_now):
        _score(client, batch(household("hh_race_object_01", signal("s-1", amount=9000.0))))
    assert statuses == [201]
    # Without the lock the objection saw no household yet, and the score was stored after it.
    with engine.connect() as connection:
        assert connection.execute(select(Score.id)).all() == []
        item = connection.execute(select(ReviewItem.approach, ReviewItem.standard_reason)).one()
    assert tuple(item) == ("standard", "objection")


def _decided_a_year_ago(client, pseudonym: str, database_url: str, clock):  # noqa: ANN001, ANN202
    """Score and decide ``pseudonym``, then move the clock a year on; the settings under which a purge takes it."""
    first = _score(client, batch(household(pseudonym, signal("s-1"))))
    assert client.post(f"/v1/review-items/{first['review_item_id']}/decisions", json=DECISION,
                       headers=CASEWORKER).status_code == 201
    clock.advance(days=400)
    return make_settings(database_url, retention_days=30, cooldown_days=30, audit_retention_days=800)


def test_a_purge_never_deletes_a_household_a_scoring_request_is_filing(client, engine, database_url, clock):
    # A year on everything of the household is past retention: the purge takes it as an orphan.
    settings = _decided_a_year_ago(client, "hh_race_purge_01", database_url, clock)
    reports = []

    def purge() -> None:
        reports.append(commands.purge(settings, now=clock.now))

    with meanwhile(client, lambda statement: "INSERT INTO signals" in statement, purge):
        answer = _score(client, batch(household("hh_race_purge_01", signal("s-2", days_ago=1))))
    assert answer["case_status"] == "open"
    # Without the lock and the second look the purge deleted the household, and the new signal and case with it.
    with engine.connect() as connection:
        assert connection.execute(select(Household.household_pseudonym)).scalars().all() == ["hh_race_purge_01"]
        assert connection.execute(select(Signal.signal_ref)).scalars().all() == ["s-2"]
        assert connection.execute(select(ReviewItem.id).where(ReviewItem.status == "open")).scalars().all() == [
            answer["review_item_id"]
        ]
    assert reports and reports[0].deleted["households"] == 0


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_a_deadlock_or_serialization_failure_is_a_conflict_to_retry_not_an_outage():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import DBAPIError

    from vroegsignaal.service.http_errors import MSG_CONCURRENT_CHANGE, MSG_DATABASE_UNAVAILABLE, install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/deadlock")
    def deadlock() -> None:
        raise DBAPIError("UPDATE ...", {}, _Deadlock("deadlock detected"))

    @app.get("/down")
    def down() -> None:
        raise DBAPIError("SELECT 1", {}, ConnectionError("server closed the connection"))

    with TestClient(app) as test_client:
        conflict, outage = test_client.get("/deadlock"), test_client.get("/down")
    assert (conflict.status_code, conflict.json()["detail"]) == (409, MSG_CONCURRENT_CHANGE)
    assert (outage.status_code, outage.json()["detail"]) == (503, MSG_DATABASE_UNAVAILABLE)


def test_households_of_a_batch_are_locked_in_one_order_whatever_the_request_order(client, engine):
    # Two batches sharing households in opposite orders locked them crosswise and deadlocked (PostgreSQL).
    seen: list[list[str]] = []

    def upserts(conn, cursor, statement, parameters, *args) -> None:  # noqa: ANN001, ANN002
        if statement.startswith("INSERT INTO households"):
            rows = parameters if isinstance(parameters, (list, tuple)) else [parameters]
            seen.append([value for row in rows for key, value in dict(row).items() if "household_pseudonym" in key])

    services_engine = client.app.state.services.engine
    event.listen(services_engine, "before_cursor_execute", upserts)
    try:
        _score_all(client, ["hh_order_b_000001", "hh_order_a_000001"])
    finally:
        event.remove(services_engine, "before_cursor_execute", upserts)
    if services_engine.dialect.name == "postgresql":
        assert seen == [["hh_order_a_000001", "hh_order_b_000001"]]


def _score_all(client, pseudonyms: list[str]) -> None:  # noqa: ANN001
    body = batch(*(household(p, signal(f"s-{p}")) for p in pseudonyms))
    assert client.post("/v1/scores", json=body, headers=CASEWORKER).status_code == 200


def test_two_promotions_at_once_leave_one_champion(client, engine):
    # Each promotion retired the champion it saw and two versions ended as champion, each replica serving another.
    for version in ("a-fake-2", "fake-3"):  # "a-fake-2" sorts before the champion "fake-1": its row is written last
        seed_version(engine, version, ModelStatus.APPROVED)
    admin = auth(Role.ADMIN)
    statuses: list[int] = []
    updates = iter(range(1_000))

    def second_status_update(statement: str) -> bool:  # the old champion retired, then the new one crowned
        return statement.startswith("UPDATE model_versions") and next(updates) == 1

    def promote_the_other() -> None:
        statuses.append(client.post("/v1/models/fake-3/promote", json={}, headers=admin).status_code)

    with meanwhile(client, second_status_update, promote_the_other):
        first = client.post("/v1/models/a-fake-2/promote", json={}, headers=admin)
    assert first.status_code == 200, first.text
    with engine.connect() as connection:
        champions = connection.execute(
            select(ModelVersion.version).where(ModelVersion.status == ModelStatus.CHAMPION.value)
        ).scalars().all()
    assert len(champions) == 1
    if client.app.state.services.engine.dialect.name == "postgresql":
        assert statuses == [409] and champions == ["a-fake-2"]


def test_two_objections_at_once_leave_no_score_in_a_stored_answer(client, engine):
    # Each objection rewrote the batch's stored answer from its own copy: the second put the first household's score
    # back, and a retry handed it out again (GDPR art. 21).
    body = batch(household("hh_race_twice_001", signal("s-1", amount=9000.0)),
                 household("hh_race_twice_002", signal("s-2", amount=9000.0)))
    keyed = {**CASEWORKER, "Idempotency-Key": "batch-race-objections"}
    assert client.post("/v1/scores", json=body, headers=keyed).status_code == 200
    statuses: list[int] = []

    def object_to(pseudonym: str) -> int:
        objection = {"household_id": pseudonym, "received_on": "2026-03-04"}
        return client.post("/v1/objections", json=objection, headers=CASEWORKER).status_code

    with meanwhile(client, lambda statement: "FROM score_submissions" in statement,
                   lambda: statuses.append(object_to("hh_race_twice_002"))):
        statuses.append(object_to("hh_race_twice_001"))
    assert sorted(statuses) == [201, 201]
    with engine.connect() as connection:
        (stored,) = connection.execute(select(ScoreSubmission.response)).scalars().all()
    assert [(r["standard_reason"], r["score"]) for r in stored["results"]] == [("objection", None)] * 2
    retry = client.post("/v1/scores", json=body, headers=keyed).json()
    assert [(r["standard_reason"], r["score"]) for r in retry["results"]] == [("objection", None)] * 2


def test_an_objection_and_a_purge_at_once_both_succeed(client, engine, database_url, clock):
    # They took the same rows in opposite orders (scores then decisions, against decisions then scores) and
    # deadlocked: the objection was refused with "retry", or the night's purge rolled back.
    settings = _decided_a_year_ago(client, "hh_race_purgeobj1", database_url, clock)
    reports: list = []
    statuses: list[int] = []

    def purge() -> None:
        reports.append(commands.purge(settings, now=clock.now))

    with meanwhile(client, lambda statement: statement.startswith("DELETE FROM scores"), purge):
        objection = {"household_id": "hh_race_purgeobj1", "received_on": "2026-03-04"}
        statuses.append(client.post("/v1/objections", json=objection, headers=CASEWORKER).status_code)
    assert statuses == [201] and len(reports) == 1
    assert reports[0].deleted["decisions"] == 1


def test_a_correction_of_an_expiring_signal_and_a_purge_at_once_both_succeed(client, engine, database_url, clock):
    # The scoring request locks the signal it corrects, then the household's open case; the purge locked the open
    # case (to mark it changed) before deleting the signal: each waited for the other, one was refused.
    opened = _score(client, batch(household("hh_race_purgecor1", signal("s-1"))))
    clock.advance(days=400)
    settings = make_settings(database_url, retention_days=30, cooldown_days=30, audit_retention_days=800)
    reports: list = []

    def purge() -> None:
        reports.append(commands.purge(settings, now=clock.now))

    correction = {**signal("s-1-corr", days_ago=-399), "replaces_signal_id": "s-1"}
    with meanwhile(client, lambda statement: statement.startswith("UPDATE signals"), purge):
        answer = _score(client, batch(household("hh_race_purgecor1", correction)))
    assert answer["review_item_id"] == opened["review_item_id"] and len(reports) == 1
    assert reports[0].deleted["signals"] == 1 and reports[0].cases_changed == 1
    with engine.connect() as connection:
        assert connection.execute(select(Signal.signal_ref)).scalars().all() == ["s-1-corr"]


def test_a_replica_starts_while_another_reloads_a_rejected_model(client, make_client, engine):
    # The reload withdrew the rejected model's advice (the audit chain's head locked) before it took the registration
    # lock, a starting replica the other way round: the start failed on a deadlock.
    from tests.service.fakes import FakeScorer

    _score(client, batch(household("hh_race_reload_01", signal("s-1"))))
    with engine.begin() as connection:
        connection.execute(update(ModelVersion).where(ModelVersion.version == "fake-1").values(status="rejected"))
    started: list[str] = []

    def start_replica() -> None:
        make_client(scorer=FakeScorer(model_version="fake-new"), seed_status=None, demo_mode=True)
        started.append("started")

    with meanwhile(client, lambda statement: statement.startswith("UPDATE audit_chain_head SET last_hash"),
                   start_replica):
        reloaded = client.post("/v1/admin/reload", headers=auth(Role.ADMIN))
    assert reloaded.status_code == 200, reloaded.text
    assert started == ["started"]


def test_a_rejection_recorded_during_a_promotion_stands(client, engine):
    # The promotion read the version as approved and wrote champion over the rejection recorded meanwhile: a version
    # an ethics reviewer had rejected (and been told so) became champion and was served.
    seed_version(engine, "fake-2", ModelStatus.APPROVED)
    rejections = []

    def reject() -> None:
        rejections.append(client.post("/v1/models/fake-2/approval", headers=auth(Role.ETHICS_REVIEWER),
                                      json={"decision": "reject", "comment": "fails our review now"}).status_code)

    with meanwhile(client, lambda statement: "FOR UPDATE" in statement and "model_versions" in statement, reject):
        promoted = client.post("/v1/models/fake-2/promote", json={}, headers=auth(Role.ADMIN))
    assert rejections == [200] and promoted.status_code in (200, 409)
    with engine.connect() as connection:
        status = connection.execute(select(ModelVersion.status).where(ModelVersion.version == "fake-2")).scalar_one()
    assert status == ModelStatus.REJECTED.value
    scored = client.post("/v1/scores", json=batch(household("hh_race_reject_01", signal("s-1"))), headers=CASEWORKER)
    assert scored.status_code == 503


def test_a_case_scored_while_its_model_is_rejected_loses_the_advice_too(client, engine):
    # The scoring request read the model as champion, the rejection withdrew the advice of the cases committed by
    # then, and the request committed its case with the rejected model's advice after it, for good.
    rejections = []

    def reject() -> None:
        rejections.append(client.post("/v1/models/fake-1/approval", headers=auth(Role.ETHICS_REVIEWER),
                                      json={"decision": "reject", "comment": "fails our review now"}).status_code)

    with meanwhile(client, lambda statement: "service_switches" in statement, reject):
        scored = client.post("/v1/scores", json=batch(household("hh_race_reject_02", signal("s-2"))),
                             headers=CASEWORKER)
    assert scored.status_code == 200 and rejections == [200]
    with engine.connect() as connection:
        cases = connection.execute(select(ReviewItem.approach, ReviewItem.standard_reason)).all()
    assert [tuple(case) for case in cases] == [("standard", "model_withdrawn")]


def _review_item_locked(statement: str) -> bool:
    return "FROM review_items" in statement and "FOR UPDATE" in statement


def test_an_objection_filed_while_a_decision_is_recorded_erases_the_decisions_copy_of_the_score(client, engine):
    # The objection erased the decisions it could see, then waited for the case: the decision committed after it
    # with the objector's score, band and model version, shown in the household's history.
    first = _score(client, batch(household("hh_race_objdec_01", signal("s-1", amount=9000.0))))
    objections = []

    def object_now() -> None:
        objection = {"household_id": "hh_race_objdec_01", "received_on": "2026-03-04"}
        objections.append(client.post("/v1/objections", json=objection, headers=CASEWORKER).status_code)

    with meanwhile(client, _review_item_locked, object_now):
        decided = client.post(f"/v1/review-items/{first['review_item_id']}/decisions", json=DECISION,
                              headers=CASEWORKER)
    assert decided.status_code == 201 and objections == [201]
    with engine.connect() as connection:
        kept = connection.execute(select(Decision.score, Decision.band, Decision.model_version)).all()
        assert connection.execute(select(Score.id)).all() == []
    assert [tuple(row) for row in kept] == [(None, None, None)]


def test_a_rejection_while_a_decision_is_recorded_does_not_deadlock(client, engine):
    # The rejection locked the audit chain's head before the open cases, every other writer the other way round.
    first = _score(client, batch(household("hh_race_rejdec_01", signal("s-1", amount=9000.0))))
    rejections = []

    def reject() -> None:
        rejections.append(client.post("/v1/models/fake-1/approval", headers=auth(Role.ETHICS_REVIEWER),
                                      json={"decision": "reject", "comment": "fails our review now"}).status_code)

    with meanwhile(client, _review_item_locked, reject):
        decided = client.post(f"/v1/review-items/{first['review_item_id']}/decisions", json=DECISION,
                              headers=CASEWORKER)
    assert decided.status_code == 201 and rejections == [200]
    with engine.connect() as connection:
        status = connection.execute(select(ModelVersion.status).where(ModelVersion.version == "fake-1")).scalar_one()
    assert status == ModelStatus.REJECTED.value


def test_a_batch_and_the_ordering_switch_lock_the_cases_in_one_order(client, engine):
    # The batch locked its open cases in request order, the switch in table order: with a third transaction holding
    # a case between them they waited for each other in a circle.
    import time

    from sqlalchemy import text

    ids = {p: _score(client, batch(household(p, signal(f"s-{p}"))))["review_item_id"]
           for p in ("hh_race_sw_a_0001", "hh_race_sw_m_0001", "hh_race_sw_b_0001")}
    if engine.dialect.name != "postgresql":
        return  # one transaction writes at a time
    answers: dict[str, int] = {}

    def switch() -> None:
        answers["switch"] = client.put("/v1/admin/ordering", headers=auth(Role.ADMIN),
                                       json={"mode": "rule", "reason": "model under review"}).status_code

    def score_in_reverse_order() -> None:
        body = batch(household("hh_race_sw_b_0001", signal("s-b2", days_ago=1)),
                     household("hh_race_sw_a_0001", signal("s-a2", days_ago=1)))
        answers["score"] = client.post("/v1/scores", json=body, headers=CASEWORKER).status_code

    with engine.connect() as other:  # a decision in progress on the middle case holds its lock
        holding = other.begin()
        other.execute(text("SELECT id FROM review_items WHERE id = :id FOR UPDATE"), {"id": ids["hh_race_sw_m_0001"]})
        threads = [threading.Thread(target=switch), threading.Thread(target=score_in_reverse_order)]
        for thread in threads:
            thread.start()
            time.sleep(0.7)
        holding.commit()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == {"switch": 200, "score": 200}
