"""Model versions: approval with a comment, promotion only after approval, reload, and demo mode's header."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.service.conftest import NOON, auth, batch, household, load_fake, row_counts, seed_version, signal
from tests.service.fakes import FakeScorer
from vroegsignaal.errors import ModelNotApprovedError
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service.audit import AuditAction
from vroegsignaal.service.middleware import DEMO_HEADER
from vroegsignaal.service.models import AuditRecord, ModelVersion, ReviewItem
from vroegsignaal.service.scores import MSG_MODEL_REJECTED
from vroegsignaal.service.serving import DEMO_UNAPPROVED, MSG_CHANGED_WHILE_LOADING
from vroegsignaal.service.security import Caller
from vroegsignaal.service.versions import MSG_BAD_TRANSITION, change_status

ETHICS = auth(Role.ETHICS_REVIEWER)
ADMIN = auth(Role.ADMIN)
CASEWORKER = auth(Role.CASEWORKER)
APPROVE = {"decision": "approve", "comment": "card reviewed, fairness gates pass"}


def test_unapproved_version_is_refused_outside_demo_mode(make_client):
    with pytest.raises(ModelNotApprovedError, match="only an approved version may be served"):
        make_client(seed_status=None)


def test_demo_mode_serves_an_unapproved_version_and_says_so_on_every_response(make_client):
    client = make_client(seed_status=None, demo_mode=True)
    for response in (client.get("/health"), client.get("/v1/models/current", headers=CASEWORKER)):
        assert response.headers[DEMO_HEADER] == DEMO_UNAPPROVED
    assert client.get("/v1/models/current", headers=CASEWORKER).json()["approved"] is False


def test_approved_model_outside_demo_mode_has_no_demo_header(client):
    assert DEMO_HEADER not in client.get("/health").headers


def test_candidate_is_approved_with_comment_then_promoted_and_served(client, engine):
    seed_version(engine, "fake-2", ModelStatus.CANDIDATE, card={"name": "fake-2"}, html="<p>card</p>")
    refused = client.post("/v1/models/fake-2/promote", headers=ADMIN)  # the body (a comment) may be left out
    assert refused.status_code == 409
    assert refused.json()["detail"] == MSG_BAD_TRANSITION.format(version="fake-2", current="candidate",
                                                                 target="champion")
    approved = client.post("/v1/models/fake-2/approval", json=APPROVE, headers=ETHICS)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    event = approved.json()["events"][-1]
    assert (event["actor"], event["role"], event["comment"]) == ("user-ethics_reviewer", "ethics_reviewer",
                                                                  APPROVE["comment"])
    promoted = client.post("/v1/models/fake-2/promote", json={"comment": "go"}, headers=ADMIN)
    assert promoted.json() == {"previous_version": "fake-1", "serving_version": "fake-2", "approved": True}
    statuses = {v["version"]: v["status"] for v in client.get("/v1/models", headers=ETHICS).json()}
    assert statuses == {"fake-1": "retired", "fake-2": "champion"}
    scored = client.post("/v1/scores", json=batch(household("hh_after_promo_01", signal("s-1"))), headers=CASEWORKER)
    assert scored.json()["model_version"] == "fake-2"
    card = client.get("/v1/models/fake-2/card", headers=CASEWORKER).json()
    # The card as trained, with who approved and promoted it, when and why (the service's registration left out).
    assert card["name"] == "fake-2"
    assert [(e["from_status"], e["to_status"], e["role"], e["comment"]) for e in card["approval_history"]] == [
        ("candidate", "approved", "ethics_reviewer", APPROVE["comment"]),
        ("approved", "champion", "admin", "go"),
    ]
    assert client.get("/v1/models/fake-2/card.html", headers=CASEWORKER).text == "<p>card</p>"


def test_a_served_card_with_its_approval_history_is_still_a_valid_card(client, engine):
    from tests.model_cards.factories import card_dict
    from vroegsignaal.schemas.card import ModelCard

    seed_version(engine, "card-9", ModelStatus.CANDIDATE, card=card_dict(failing_gate=False, approval_history=[]))
    assert client.post("/v1/models/card-9/approval", json=APPROVE, headers=ETHICS).status_code == 200
    card = ModelCard.model_validate(client.get("/v1/models/card-9/card", headers=CASEWORKER).json())
    assert [event.to_status for event in card.approval_history] == [ModelStatus.APPROVED]


def test_model_info_tells_the_recorded_status_of_the_served_version(client, engine):
    assert client.get("/v1/models/current", headers=CASEWORKER).json()["status"] == "champion"
    # Another process (the CLI's promote) retired it; this replica serves it until its reload, and says so.
    with engine.begin() as connection:
        connection.execute(update(ModelVersion).where(ModelVersion.version == "fake-1").values(status="retired"))
    info = client.get("/v1/models/current", headers=CASEWORKER).json()
    assert (info["serving_version"], info["status"], info["approved"]) == ("fake-1", "retired", False)


def test_approval_needs_a_comment(client, engine):
    seed_version(engine, "fake-3", ModelStatus.CANDIDATE)
    response = client.post("/v1/models/fake-3/approval", json={"decision": "approve", "comment": "ok"}, headers=ETHICS)
    assert response.status_code == 422 and "comment" in response.json()["detail"]


def test_rejected_version_can_never_be_promoted(client, engine):
    seed_version(engine, "fake-4", ModelStatus.CANDIDATE)
    client.post("/v1/models/fake-4/approval", json={"decision": "reject", "comment": "recall ratio fails the gate"},
                headers=ETHICS)
    assert client.post("/v1/models/fake-4/promote", json={}, headers=ADMIN).status_code == 409


def test_reload_does_not_change_the_version_of_a_request_in_flight(client, engine):
    services = client.app.state.services
    before = services.holder.current
    seed_version(engine, "fake-5", ModelStatus.APPROVED)
    client.post("/v1/models/fake-5/promote", json={}, headers=ADMIN)
    # The request took `before` when it started; the holder now serves fake-5, the old object is untouched.
    assert before.version == "fake-1" and services.holder.current.version == "fake-5"
    reloaded = client.post("/v1/admin/reload", headers=ADMIN).json()
    assert reloaded["previous_version"] == "fake-5" and reloaded["serving_version"] == "fake-5"


def _make_champion(engine, version: str) -> None:
    """``version`` becomes the champion and the old one an approved version, as a promotion through another
    replica would leave the register (this replica has not loaded it yet)."""
    with engine.begin() as connection:
        connection.execute(update(ModelVersion).where(ModelVersion.status == ModelStatus.CHAMPION.value)
                           .values(status=ModelStatus.APPROVED.value))
        connection.execute(update(ModelVersion).where(ModelVersion.version == version)
                           .values(status=ModelStatus.CHAMPION.value))


def _reload_records(engine) -> list[dict]:
    with engine.connect() as connection:
        return list(connection.scalars(select(AuditRecord.detail).where(AuditRecord.action == AuditAction.MODEL_RELOAD)))


def test_a_reload_loads_its_model_holding_no_database_connection(client, engine):
    # Loading may download a bundle from the MLflow registry: no lock may be held and no transaction left open
    # meanwhile (PostgreSQL would end a session idle in its transaction for longer than DB_TIMEOUT_SECONDS).
    services = client.app.state.services
    connections_while_loading: list[int] = []

    def load(source_uri: str) -> FakeScorer:
        connections_while_loading.append(services.engine.pool.checkedout())
        return load_fake(source_uri)

    services.load_scorer = load
    seed_version(engine, "fake-2", ModelStatus.APPROVED)
    _make_champion(engine, "fake-2")
    reloaded = client.post("/v1/admin/reload", headers=ADMIN)
    assert reloaded.status_code == 200 and reloaded.json()["serving_version"] == "fake-2"
    assert connections_while_loading == [0]
    assert _reload_records(engine) == [{"previous": "fake-1", "serving": "fake-2"}]


def test_a_reload_is_recorded_after_what_was_recorded_while_it_loaded(client, engine, clock):
    # The audit chain is in time order (a retention purge deletes its oldest records as a prefix).
    services = client.app.state.services

    def load_while_time_passes(source_uri: str) -> FakeScorer:
        clock.advance(minutes=5)
        assert client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"},
                          headers=ADMIN).status_code == 200
        clock.advance(minutes=5)
        return load_fake(source_uri)

    services.load_scorer = load_while_time_passes
    seed_version(engine, "fake-2", ModelStatus.APPROVED)
    _make_champion(engine, "fake-2")
    assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 200
    with engine.connect() as connection:
        records = connection.execute(select(AuditRecord.action, AuditRecord.created_at).order_by(AuditRecord.seq)).all()
    assert [action for action, _ in records][-2:] == [AuditAction.ORDERING_SWITCH, AuditAction.MODEL_RELOAD]
    times = [created for _, created in records]
    assert times == sorted(times)


def test_a_reload_that_loads_longer_than_the_database_timeout_succeeds(make_client, engine):
    # On PostgreSQL the timeout includes idle_in_transaction_session_timeout; SQLite has none to cross.
    client = make_client(db_timeout_seconds=1)
    services = client.app.state.services

    def slow_load(source_uri: str) -> FakeScorer:
        time.sleep(1.3)  # a download from a slow registry
        return load_fake(source_uri)

    services.load_scorer = slow_load
    seed_version(engine, "fake-2", ModelStatus.APPROVED)
    _make_champion(engine, "fake-2")
    reloaded = client.post("/v1/admin/reload", headers=ADMIN)
    assert reloaded.status_code == 200, reloaded.json()
    assert services.holder.current.version == "fake-2"


def test_a_reload_whose_version_changes_while_it_loads_swaps_nothing(client, engine):
    services = client.app.state.services
    seed_version(engine, "fake-2", ModelStatus.APPROVED)
    seed_version(engine, "fake-3", ModelStatus.APPROVED)
    _make_champion(engine, "fake-2")

    def load_while_another_replica_promotes(source_uri: str) -> FakeScorer:
        _make_champion(engine, "fake-3")
        return load_fake(source_uri)

    services.load_scorer = load_while_another_replica_promotes
    reloaded = client.post("/v1/admin/reload", headers=ADMIN)
    assert reloaded.status_code == 409
    assert reloaded.json()["detail"] == MSG_CHANGED_WHILE_LOADING.format(version="fake-2")
    assert services.holder.current.version == "fake-1" and _reload_records(engine) == []
    services.load_scorer = load_fake
    again = client.post("/v1/admin/reload", headers=ADMIN)
    assert again.status_code == 200 and again.json()["serving_version"] == "fake-3"


def test_unknown_version_is_404(client):
    response = client.get("/v1/models/nope-1", headers=ETHICS)
    assert response.status_code == 404 and response.json()["detail"] == "model version 'nope-1' does not exist"


def test_ready_and_metrics_report_the_model(client):
    client.post("/v1/scores", json=batch(household("hh_metrics_000001", signal("s-1", amount=9000.0))),
                headers=CASEWORKER)
    assert client.get("/ready").json() == {"ready": True, "database": True, "model_loaded": True,
                                           "model_version": "fake-1", "model_status": "champion"}
    text = client.get("/metrics").text
    assert 'vroegsignaal_model_info{status="champion",version="fake-1"} 1.0' in text
    assert 'vroegsignaal_scores_total{band="high"} 1.0' in text
    assert 'vroegsignaal_review_backlog{municipality="GM0344"} 1.0' in text
    assert 'route="/v1/scores"' in text and "hh_metrics" not in text


def test_a_replica_whose_model_was_rejected_elsewhere_says_so_in_ready_and_metrics(client, engine):
    """A rejection recorded through another replica leaves this one holding the model, refusing to score with
    it: /ready said ready and /metrics "champion", so nothing showed why scoring answered 503."""
    with Session(engine) as session, session.begin():  # what the other replica's rejection wrote
        session.execute(update(ModelVersion).where(ModelVersion.version == "fake-1")
                        .values(status=ModelStatus.REJECTED.value))
    answer = client.get("/ready")
    assert answer.status_code == 503
    assert answer.json() == {"ready": False, "database": True, "model_loaded": True, "model_version": "fake-1",
                             "model_status": "rejected"}
    assert 'vroegsignaal_model_info{status="rejected",version="fake-1"} 1.0' in client.get("/metrics").text


def test_metrics_do_not_wait_on_a_database_that_does_not_answer(client, monkeypatch):
    """A scrape waited as long as the database timeout (40 s seen) and then showed the last backlog as current;
    Prometheus gives up after 10 s and the latency and error metrics were lost with it."""
    import threading

    from vroegsignaal.service import serving
    from vroegsignaal.service.routes import system

    client.post("/v1/scores", json=batch(household("hh_metrics_000001", signal("s-1", amount=9000.0))),
                headers=CASEWORKER)
    assert "vroegsignaal_queue_metrics_up 1.0" in client.get("/metrics").text
    hung, reads = threading.Event(), []

    def hanging(services):  # noqa: ANN001, ANN202 - the database does not answer until the test ends
        reads.append(services)
        hung.wait(60)
        return {}

    monkeypatch.setattr(serving, "queue_counts", hanging)
    monkeypatch.setattr(system, "QUEUE_METRICS_TIMEOUT_SECONDS", 0.2)
    try:
        for _ in range(3):  # each scrape answers while the read still hangs
            text = client.get("/metrics").text
        assert not hung.is_set() and len(reads) == 1  # later scrapes waited for that read, they started none
        assert "vroegsignaal_queue_metrics_up 0.0" in text and "vroegsignaal_review_backlog{" not in text
        assert 'route="/v1/scores"' in text  # the other metrics are still served
    finally:
        hung.set()


def test_unusual_methods_share_one_metric_label_and_a_request_id_is_kept_only_as_a_uuid(client):
    """Any client could add metric series per unusual method, and put a BSN or a pseudonym in X-Request-ID, which
    every log line carries."""
    for method in ("PROPFIND", "MKCALENDAR", "BREW"):
        client.request(method, "/health")
    text = client.get("/metrics").text
    assert 'method="OTHER"' in text and "PROPFIND" not in text and "MKCALENDAR" not in text
    proxy_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert client.get("/health", headers={"X-Request-ID": proxy_id}).headers["X-Request-ID"] == proxy_id
    for sent in ("111222333", "hh_metrics_0000000001", "a" * 64):
        assert client.get("/health", headers={"X-Request-ID": sent}).headers["X-Request-ID"] != sent


def test_a_version_whose_card_says_not_promotable_is_never_approved_or_promoted(client, engine):
    not_promotable = {"verdict": {"promotable": False}}
    seed_version(engine, "gated-1", ModelStatus.CANDIDATE, card=not_promotable)
    refused = client.post("/v1/models/gated-1/approval", json=APPROVE, headers=ETHICS)
    assert refused.status_code == 409 and "not promotable" in refused.json()["detail"]
    rejected = client.post("/v1/models/gated-1/approval",
                           json={"decision": "reject", "comment": "the recall gate failed"}, headers=ETHICS)
    assert rejected.status_code == 200
    seed_version(engine, "gated-2", ModelStatus.APPROVED, card=not_promotable)  # approved before the rule, say
    promoted = client.post("/v1/models/gated-2/promote", json={}, headers=ADMIN)
    assert promoted.status_code == 409 and "not promotable" in promoted.json()["detail"]
    assert client.get("/v1/models/current", headers=ADMIN).json()["serving_version"] == "fake-1"


def _registry_version(engine, version: str, uri: str) -> None:  # noqa: ANN001
    with engine.begin() as connection:
        connection.execute(update(ModelVersion).where(ModelVersion.version == version)
                           .values(source_uri=uri, model_name=uri.split("/")[1]))


def test_registry_aliases_follow_only_committed_status_changes(engine):
    moves: list[tuple[str, str, ModelStatus]] = []
    reviewer = Caller("reviewer-1", Role.ETHICS_REVIEWER)
    seed_version(engine, "reg-1", ModelStatus.CANDIDATE)
    _registry_version(engine, "reg-1", "models:/vroegsignaal-x/3")
    for commit in (False, True):
        with Session(engine) as session:
            session.begin()
            change_status(session, version="reg-1", target=ModelStatus.APPROVED, caller=reviewer, comment="reviewed",
                          now=NOON, mirror=lambda name, version, status: moves.append((name, version, status)))
            assert moves == []  # nothing reaches the registry before the change is committed
            if commit:
                session.commit()
            else:
                session.rollback()
        assert moves == ([("vroegsignaal-x", "3", ModelStatus.APPROVED)] if commit else [])


def test_a_registry_that_refuses_an_alias_does_not_undo_the_status_change(make_client, engine):
    def refuse(name: str, version: str, status: ModelStatus) -> None:
        raise RuntimeError("registry unreachable")

    client = make_client(registry_mirror=refuse)
    seed_version(engine, "reg-3", ModelStatus.CANDIDATE)
    _registry_version(engine, "reg-3", "models:/vroegsignaal-x/5")
    assert client.post("/v1/models/reg-3/approval", json=APPROVE, headers=ETHICS).status_code == 200
    assert client.get("/v1/models/reg-3", headers=ETHICS).json()["status"] == "approved"


def test_an_ethics_reviewer_can_withdraw_the_model_in_use(client, engine):
    rejected = client.post("/v1/models/fake-1/approval", headers=ETHICS,
                           json={"decision": "reject", "comment": "recall ratio of 50+ fell below the gate in use"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert client.get("/ready").json()["model_loaded"] is False
    body = batch(household("hh_withdrawn_0001", signal("s-1")))
    assert client.post("/v1/scores", json=body, headers=CASEWORKER).status_code == 503
    assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 409  # nothing approved to serve
    assert client.post("/v1/models/fake-1/promote", json={}, headers=ADMIN).status_code == 409
    # Signals are still taken in, in the rule-based order, once an admin switches to it.
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model withdrawn"}, headers=ADMIN)
    scored = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert scored.status_code == 200 and scored.json()["model_version"] is None
    with engine.connect() as connection:
        withdrawn = connection.execute(
            select(AuditRecord.object_id, AuditRecord.detail).where(AuditRecord.action == AuditAction.MODEL_RELOAD)
        ).one()
    assert withdrawn.detail == {"previous": "fake-1", "serving": None}


def test_a_rejected_model_no_longer_steers_the_open_cases_it_scored(client, engine, clock):
    first = client.post("/v1/scores", json=batch(household("hh_steered_00001", signal("s-1", amount=9000.0))),
                        headers=CASEWORKER).json()["results"][0]
    assert first["approach"] == "model" and first["score"] is not None
    (seen,) = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    clock.advance(minutes=1)
    client.post("/v1/models/fake-1/approval", headers=ETHICS,
                json={"decision": "reject", "comment": "recall ratio of 50+ fell below the gate in use"})
    # Still on the list (every signal gets an offer), placed like the control sample: not by the rejected score.
    (case,) = client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert (case["household_id"], case["approach"], case["standard_reason"], case["score"]) == (
        "hh_steered_00001", "standard", "model_withdrawn", None
    )
    history = client.get("/v1/households/hh_steered_00001", headers=CASEWORKER).json()
    assert history["scores"] == [] and history["review_items"][0]["suggested_intensity"] == "letter"
    with engine.connect() as connection:
        detail = connection.execute(
            select(AuditRecord.detail).where(AuditRecord.action == AuditAction.MODEL_ADVICE_WITHDRAWN)
        ).scalar_one()
    assert detail == {"open_cases": 1}
    # A caseworker who had the model's advice open decides on the case as it is now, not on the withdrawn advice.
    decision = {"end_result": "no_contact_possible", "chosen_intensity": "home_visit",
                "contact_attempts": [{"kind": "home_visit", "reached": False, "attempted_on": seen["updated_at"][:10],
                                      "part_of_day": "afternoon"}],
                "case_updated_at": seen["updated_at"], "departure_reason": "resident is hard to reach by letter"}
    stale = client.post(f"/v1/review-items/{case['review_item_id']}/decisions", json=decision, headers=CASEWORKER)
    assert stale.status_code == 409 and "field 'case_updated_at'" in stale.json()["detail"]


def test_a_model_rejected_through_another_replica_is_used_by_none(make_client, engine):
    this_replica = make_client()
    other_replica = make_client(seed_status=None)  # the same database and champion, another process
    scored = this_replica.post("/v1/scores", json=batch(household("hh_late_advice_01", signal("s-1"))),
                               headers=CASEWORKER).json()["results"][0]
    assert scored["approach"] == "model"
    rejected = other_replica.post("/v1/models/fake-1/approval", headers=ETHICS,
                                  json={"decision": "reject", "comment": "recall ratio of 50+ fell below the gate"})
    assert rejected.status_code == 200
    # This replica still holds the model, but scores with it no more (it used to until its reload).
    before = row_counts(engine)
    refused = this_replica.post("/v1/scores", json=batch(household("hh_late_advice_02", signal("s-2"))),
                                headers=CASEWORKER)
    assert refused.status_code == 503 and refused.json()["detail"] == MSG_MODEL_REJECTED
    assert row_counts(engine) == before
    # A case a request scored while the rejection was being recorded loses the advice at the reload.
    with engine.begin() as connection:
        connection.execute(update(ReviewItem).values(approach="model", standard_reason=None))
    assert this_replica.post("/v1/admin/reload", headers=ADMIN).json()["serving_version"] is None
    (case,) = this_replica.get("/v1/outreach", headers=CASEWORKER).json()["items"]
    assert (case["approach"], case["standard_reason"], case["score"]) == ("standard", "model_withdrawn", None)


def test_the_promote_command_never_retires_the_champion_for_a_version_that_cannot_be_served(
    client, engine, database_url, tmp_path
):
    from vroegsignaal.errors import VroegsignaalError
    from vroegsignaal.service import commands
    from tests.service.conftest import make_settings

    seed_version(engine, "broken-1", ModelStatus.APPROVED)
    with engine.begin() as connection:
        connection.execute(update(ModelVersion).where(ModelVersion.version == "broken-1")
                           .values(source_uri=f"bundle:{tmp_path / 'gone'}"))
    with pytest.raises(VroegsignaalError, match="not a model bundle"):
        commands.promote("broken-1", make_settings(database_url))
    statuses = {v["version"]: v["status"] for v in client.get("/v1/models", headers=ETHICS).json()}
    assert statuses == {"fake-1": "champion", "broken-1": "approved"}


def test_a_replica_stops_serving_a_rejected_model_on_its_reload(make_client):
    first = make_client()
    replica = make_client(seed_status=None)  # a second process on the same database, serving the same champion
    first.post("/v1/models/fake-1/approval", headers=ETHICS,
               json={"decision": "reject", "comment": "recall ratio of 50+ fell below the gate in use"})
    assert replica.get("/ready").json()["model_loaded"] is True  # until it reloads, as after a promotion
    reloaded = replica.post("/v1/admin/reload", headers=ADMIN)
    assert reloaded.status_code == 200
    assert reloaded.json() == {"previous_version": "fake-1", "serving_version": None, "approved": False}
    body = batch(household("hh_replica_000001", signal("s-1")))
    assert replica.post("/v1/scores", json=body, headers=CASEWORKER).status_code == 503
