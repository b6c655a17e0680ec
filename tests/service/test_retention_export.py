"""Retention purges what is past its period and reports it; the audit log keeps six months and still verifies.
Decisions export as labelled data, with the control-sample marker and without objected households."""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, delete, event, select, text, update
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from tests.service.conftest import (
    MUNICIPALITY,
    OTHER_MUNICIPALITY,
    TODAY,
    auth,
    batch,
    household,
    make_settings,
    row_counts,
    signal,
)
from vroegsignaal.cli import app
from vroegsignaal.errors import ConfigError, VroegsignaalError
from vroegsignaal.schemas.enums import Role
from vroegsignaal.schemas.dataset_config import load_dataset_config
from vroegsignaal.schemas.tables import HouseholdSchema, OutcomeSchema, SignalSchema
from vroegsignaal.service import commands, export
from vroegsignaal.service.audit import AuditAction
from vroegsignaal.service.commands import MSG_TIMED_OUT
from vroegsignaal.service.decisions import MSG_CASE_CHANGED
from vroegsignaal.service.export import MSG_MUNICIPALITY_CODE, MSG_OUT_NOT_WRITTEN, MSG_OUT_NOT_A_FOLDER
from vroegsignaal.service.db import MSG_URL_NOT_A_URL, MSG_URL_POSTGRES_SCHEME, create_db_engine
from vroegsignaal.service.models import AuditChainHead, AuditRecord, Decision, ReviewItem
from vroegsignaal.service.settings import get_settings
from vroegsignaal.training.data import load_dataset

CASEWORKER = auth(Role.CASEWORKER)
DECISION = {"end_result": "financial_follow_up", "chosen_intensity": "letter",
            "contact_attempts": [{"kind": "letter", "reached": True, "attempted_on": TODAY.isoformat(),
                                  "part_of_day": "evening"}]}


def _score_and_decide(client, pseudonym: str) -> None:  # noqa: ANN001
    result = client.post("/v1/scores", json=batch(household(pseudonym, signal(f"s-{pseudonym}", amount=500.0))),
                         headers=CASEWORKER).json()["results"][0]
    assert client.post(f"/v1/review-items/{result['review_item_id']}/decisions", json=DECISION,
                       headers=CASEWORKER).status_code == 201


def test_purge_deletes_old_data_reports_it_and_keeps_the_chain_verifiable(client, database_url, clock):
    _score_and_decide(client, "hh_old_case_00001")
    settings = make_settings(database_url, retention_days=30, cooldown_days=30, audit_retention_days=200)
    nothing = commands.purge(settings, now=clock.now + dt.timedelta(days=10))
    assert all(count == 0 for count in nothing.deleted.values())
    report = commands.purge(settings, now=clock.now + dt.timedelta(days=31))
    assert report.deleted["signals"] == 1 and report.deleted["scores"] == 1
    assert report.deleted["decisions"] == 1 and report.deleted["households"] == 1
    assert report.deleted["contact_attempts"] == 1  # deleted with their decision, and counted
    assert report.deleted["audit_log"] == 0  # younger than 200 days
    later = commands.purge(settings, now=clock.now + dt.timedelta(days=201))
    assert later.deleted["audit_log"] == 2  # the score and the decision; the purges' own records are younger
    verification = commands.audit_verify(settings)
    assert verification.ok and verification.first_seq == 3
    # Deleting the oldest records outside a purge, and moving the chain's start past them, is found: no purge
    # in the log moved the start there.
    engine = create_db_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
            start = connection.execute(select(AuditRecord.prev_hash).where(AuditRecord.seq == 4)).scalar_one()
            connection.execute(update(AuditChainHead).values(anchor_seq=3, anchor_hash=start))
    finally:
        engine.dispose()
    tampered = commands.audit_verify(settings)
    assert not tampered.ok and [p.kind for p in tampered.problems] == ["unexplained_anchor"]


def test_a_purge_that_deletes_what_an_open_case_shows_marks_the_case_changed(client, database_url, clock):
    # Still open after the retention period: its signal and score go. A household whose earlier case was closed
    # then: that case's signal goes from its page. A household scored since: nothing of it goes.
    waiting = "hh_waiting_purge1"

    def post(*households: dict) -> None:
        assert client.post("/v1/scores", json=batch(*households), headers=CASEWORKER).status_code == 200

    post(household(waiting, signal("s-waiting", amount=500.0)), household("hh_earlier_purge1", signal("s-earlier")))
    [earlier] = [i for i in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]
                 if i["household_id"] == "hh_earlier_purge1"]
    assert client.post(f"/v1/review-items/{earlier['review_item_id']}/decisions", headers=CASEWORKER, json={
        "end_result": "unjustified_signal", "chosen_intensity": "letter", "contact_attempts": [],
        "departure_reason": "paid before we wrote"}).status_code == 201
    clock.advance(days=31)
    post(household("hh_earlier_purge1", signal("s-later", amount=700.0)),
         household("hh_fresh_purge001", signal("s-fresh", amount=500.0)))
    seen = {i["household_id"]: i for i in client.get("/v1/outreach", headers=CASEWORKER).json()["items"]}
    clock.advance(minutes=1)
    report = commands.purge(make_settings(database_url, retention_days=30, cooldown_days=30), now=clock.now)
    assert (report.deleted["signals"], report.deleted["scores"], report.cases_changed) == (2, 2, 2)

    def decide(pseudonym: str):  # noqa: ANN202
        item = seen[pseudonym]
        return client.post(f"/v1/review-items/{item['review_item_id']}/decisions", headers=CASEWORKER, json={
            "end_result": "unjustified_signal", "chosen_intensity": item["suggested_intensity"],
            "contact_attempts": [], "departure_reason": "paid meanwhile", "case_updated_at": item["updated_at"]})

    for pseudonym in (waiting, "hh_earlier_purge1"):
        stale = decide(pseudonym)
        assert stale.status_code == 409, pseudonym
        assert stale.json()["detail"] == MSG_CASE_CHANGED.format(
            item_id=seen[pseudonym]["review_item_id"], updated_at=clock.now.isoformat(),
            seen=dt.datetime.fromisoformat(seen[pseudonym]["updated_at"]).isoformat())
    assert decide("hh_fresh_purge001").status_code == 201


def _reached_on(day: dt.date) -> dict:
    return {"end_result": "advice_quick_fix", "chosen_intensity": "letter", "departure_reason": "called when we could",
            "contact_attempts": [{"kind": "phone", "reached": True, "attempted_on": day.isoformat(),
                                  "part_of_day": "morning"}]}


def _stored_arrears(engine: Engine) -> dict[str, list[float]]:
    with engine.connect() as connection:
        return {
            "decisions": list(connection.scalars(select(Decision.total_arrears_eur).order_by(Decision.id))),
            "review_items": list(connection.scalars(select(ReviewItem.total_arrears_eur).order_by(ReviewItem.id))),
        }


def _energy_case(client: Any, pseudonym: str) -> int:
    """A new case of €800 energy arrears; its review item's id."""
    energy = signal(f"s-energy-{pseudonym}", partner="energy", amount=800.0)
    return client.post("/v1/scores", json=batch(household(pseudonym, energy)), headers=CASEWORKER).json()[
        "results"
    ][0]["review_item_id"]


def _decide_reached(client: Any, item_id: int, day: dt.date) -> None:
    decided = client.post(f"/v1/review-items/{item_id}/decisions", json=_reached_on(day), headers=CASEWORKER)
    assert decided.status_code == 201, decided.text


def _held_back_after_rent(client: Any, pseudonym: str, *, days_ago: int) -> str | None:
    """Whether a new €300 rent signal (dated ``days_ago`` before the clock's start) leaves the household held back."""
    later = signal(f"s-rent-{pseudonym}", amount=300.0, days_ago=days_ago)
    result = client.post("/v1/scores", json=batch(household(pseudonym, later)), headers=CASEWORKER).json()
    return result["results"][0]["held_back_until"]


def test_a_decision_whose_arrears_counted_a_purged_signal_holds_back_no_household_whose_arrears_rose(
    make_client, database_url, engine, clock
):
    # Reached on day 20 with €800 energy arrears; the purge on day 35 deletes that signal and keeps the decision.
    # A rent signal of €300 on day 36: the arrears rose (€1,100 had the energy signal been kept), yet compared with
    # the €800 of a signal that is gone the household was held back by the cooldown, and €800 outlived the purge.
    client = make_client(retention_days=30, cooldown_days=30)
    pseudonym = "hh_recounted_0001"
    item_id = _energy_case(client, pseudonym)
    clock.advance(days=20)
    _decide_reached(client, item_id, clock.now.date())
    clock.advance(days=15)
    report = commands.purge(make_settings(database_url, retention_days=30, cooldown_days=30), now=clock.now)
    assert (report.deleted["signals"], report.deleted["decisions"], report.arrears_recounted) == (1, 0, 1)
    assert _stored_arrears(engine) == {"decisions": [0.0], "review_items": [0.0]}
    clock.advance(days=1)
    assert _held_back_after_rent(client, pseudonym, days_ago=-36) is None


def test_an_open_case_that_loses_a_signal_to_the_purge_passes_no_purged_arrears_to_its_decision(
    make_client, database_url, engine, clock
):
    # Still open when the purge deletes its €800 signal; decided the day after, it recorded the €800 all the same,
    # and a later €300 signal was compared with it.
    client = make_client(retention_days=30, cooldown_days=30)
    pseudonym = "hh_recounted_0002"
    item_id = _energy_case(client, pseudonym)
    clock.advance(days=35)
    report = commands.purge(make_settings(database_url, retention_days=30, cooldown_days=30), now=clock.now)
    assert (report.deleted["signals"], report.cases_changed, report.arrears_recounted) == (1, 1, 1)
    assert _stored_arrears(engine) == {"decisions": [], "review_items": [0.0]}
    clock.advance(days=1)
    _decide_reached(client, item_id, clock.now.date())
    clock.advance(days=1)
    assert _held_back_after_rent(client, pseudonym, days_ago=-37) is None


def test_a_purge_that_deletes_no_counted_signal_changes_no_arrears(make_client, database_url, engine, clock):
    # The rent signal of day 0 was superseded by a later rent signal before the decision: the sum never counted it.
    client = make_client(retention_days=30, cooldown_days=30)
    pseudonym = "hh_recounted_0003"
    assert client.post("/v1/scores", json=batch(household(pseudonym, signal("s-rent-a", amount=500.0))),
                       headers=CASEWORKER).status_code == 200
    clock.advance(days=10)
    item = client.post("/v1/scores", json=batch(household(pseudonym, signal("s-rent-b", amount=700.0, days_ago=0))),
                       headers=CASEWORKER).json()["results"][0]
    assert client.post(f"/v1/review-items/{item['review_item_id']}/decisions",
                       json=_reached_on(clock.now.date()), headers=CASEWORKER).status_code == 201
    clock.advance(days=25)
    report = commands.purge(make_settings(database_url, retention_days=30, cooldown_days=30), now=clock.now)
    assert (report.deleted["signals"], report.arrears_recounted) == (1, 0)
    assert _stored_arrears(engine) == {"decisions": [700.0], "review_items": [700.0]}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_purge_behind_a_stuck_transactions_lock_stops_naming_the_setting(database_url, engine, clock):
    settings = make_settings(database_url, retention_days=30, cooldown_days=30, db_timeout_seconds=1)
    with engine.begin() as stuck:
        stuck.execute(text("LOCK TABLE signals IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(VroegsignaalError, match=re.escape(MSG_TIMED_OUT.format(seconds=1))):
            commands.purge(settings, now=clock.now)


def test_audit_retention_below_six_months_is_refused(database_url):
    with pytest.raises(ConfigError, match="audit_retention_days"):
        make_settings(database_url, audit_retention_days=90)


def test_a_retention_shorter_than_the_cooldown_is_refused(database_url):
    with pytest.raises(ConfigError, match=r"retention_days \(90\) must be at least cooldown_days \(182\)"):
        make_settings(database_url, retention_days=90)


def test_a_retention_shorter_than_the_features_window_is_warned_of_at_start_and_by_the_purge(
    make_client, database_url, clock, monkeypatch, caplog
):
    from vroegsignaal.scoring.features import WINDOW_12M_DAYS
    from vroegsignaal.service.settings import FEATURE_WINDOW_DAYS

    assert FEATURE_WINDOW_DAYS == WINDOW_12M_DAYS
    assert make_settings(database_url).retention_warning is None  # the default, 730 days
    with caplog.at_level("WARNING", logger="vroegsignaal.service"):
        make_client(retention_days=200)
    assert any("retention_days (200) is shorter than the 365 days" in r.getMessage() for r in caplog.records)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VROEGSIGNAAL_DEMO_MODE", "true")
    monkeypatch.setenv("VROEGSIGNAAL_RETENTION_DAYS", "200")
    get_settings.cache_clear()
    try:
        monkeypatch.setattr(commands, "_now", lambda: clock.now)
        result = CliRunner().invoke(app, ["purge"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "the purge deletes signals that scores still count" in " ".join(result.output.split())


def test_export_writes_labelled_tables_without_objected_households(client, database_url, engine, tmp_path):
    _score_and_decide(client, "hh_exported_00001")
    _score_and_decide(client, "hh_objected_00001")
    client.post("/v1/objections", json={"household_id": "hh_objected_00001", "received_on": TODAY.isoformat()},
                headers=CASEWORKER)
    report = commands.export_decisions(tmp_path, make_settings(database_url))
    assert (report.decisions, report.skipped_objected) == (1, 1)
    decisions = pd.read_parquet(tmp_path / "decisions.parquet")
    assert decisions["household_id"].tolist() == ["hh_exported_00001"]
    assert decisions[["help_accepted", "reached", "control_sample"]].iloc[0].tolist() == [True, True, False]
    assert "departure_reason" not in decisions.columns
    signals = pd.read_parquet(tmp_path / "signals.parquet")
    households = pd.read_parquet(tmp_path / "households.parquet")
    SignalSchema.validate(signals, lazy=True)
    HouseholdSchema.validate(households, lazy=True)
    assert row_counts(engine)["audit_log"] > 0


def test_an_export_spanning_two_municipalities_is_refused_one_at_a_time_works(client, database_url, tmp_path):
    _score_and_decide(client, "hh_shared_name_01")
    other = auth(Role.CASEWORKER, municipality=OTHER_MUNICIPALITY)
    body = batch(household("hh_shared_name_01", signal("s-elsewhere", amount=700.0)), municipality=OTHER_MUNICIPALITY)
    item = client.post("/v1/scores", json=body, headers=other).json()["results"][0]
    assert client.post(f"/v1/review-items/{item['review_item_id']}/decisions", json=DECISION,
                       headers=other).status_code == 201
    with pytest.raises(ConfigError, match=r"--municipality: .*several municipalities \(GM0344, GM0363\)"):
        commands.export_decisions(tmp_path / "both", make_settings(database_url))
    assert not (tmp_path / "both").exists()
    report = commands.export_decisions(tmp_path / "one", make_settings(database_url), municipality=OTHER_MUNICIPALITY)
    assert report.decisions == 1
    households = pd.read_parquet(tmp_path / "one" / "households.parquet")
    assert households["household_id"].tolist() == ["hh_shared_name_01"]


def test_demo_tokens_only_in_demo_mode(database_url):
    with pytest.raises(ConfigError, match="demo mode"):
        commands.issue_demo_tokens(make_settings(database_url))
    tokens = commands.issue_demo_tokens(make_settings(database_url, demo_mode=True))
    assert set(tokens) == {role.value for role in Role}


@pytest.fixture
def environment_settings(database_url, monkeypatch):  # noqa: ANN001, ANN201
    """The CLI's settings from the environment, pointing at this test's database (read afresh, forgotten after)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VROEGSIGNAAL_DEMO_MODE", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [["audit-verify"], ["purge"], ["promote", "--version", "v1"]])
def test_commands_on_a_missing_or_unmigrated_database_say_what_to_run(command, tmp_path, monkeypatch):
    missing = tmp_path / "typo" / "service.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    monkeypatch.setenv("VROEGSIGNAAL_DEMO_MODE", "true")
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(app, command)
        assert refused.exit_code != 0 and "does not exist" in refused.output and "db upgrade" in refused.output
        assert not missing.parent.exists()  # nothing created for a mistyped path
        empty = tmp_path / "empty.db"
        empty.touch()
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{empty}")
        get_settings.cache_clear()
        unmigrated = CliRunner().invoke(app, command)
        assert unmigrated.exit_code != 0 and "run 'vroegsignaal db upgrade'" in unmigrated.output
        assert "Traceback" not in unmigrated.output
    finally:
        get_settings.cache_clear()


#: A managed provider's URL, password and all: a message about it must never show the password.
PROVIDER_URL_PASSWORD = "s3cret-provider-pw"


@pytest.mark.parametrize(
    "command",
    [["audit-verify"], ["purge"], ["export-decisions", "--out", "export"], ["db", "upgrade"], ["serve"]],
    ids=lambda command: command[0],
)
@pytest.mark.parametrize(
    ("url", "rule"),
    [("notaurl", MSG_URL_NOT_A_URL), (f"postgres://vs:{PROVIDER_URL_PASSWORD}@db.example:5432/vs",
                                     MSG_URL_POSTGRES_SCHEME)],
    ids=["not-a-url", "postgres-scheme"],
)
def test_commands_name_a_database_url_they_cannot_use_without_its_password(command, url, rule, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VROEGSIGNAAL_DEMO_MODE", "true")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(app, command)
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), refused.output
    assert f"Error: {rule}" in " ".join(refused.output.split())
    assert PROVIDER_URL_PASSWORD not in refused.output and "Traceback" not in refused.output
    assert list(tmp_path.iterdir()) == []  # no export, no SQLite file or folder


@pytest.mark.usefixtures("environment_settings")
def test_purge_command_prints_the_open_cases_it_marked_changed(client, clock, monkeypatch):
    assert client.post("/v1/scores", json=batch(household("hh_waiting_purge2", signal("s-waiting2"))),
                       headers=CASEWORKER).status_code == 200
    monkeypatch.setenv("VROEGSIGNAAL_RETENTION_DAYS", "30")
    monkeypatch.setenv("VROEGSIGNAAL_COOLDOWN_DAYS", "30")
    get_settings.cache_clear()
    monkeypatch.setattr(commands, "_now", lambda: clock.now + dt.timedelta(days=31))
    result = CliRunner().invoke(app, ["purge"])
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    assert "Open cases marked changed (cases_changed): 1;" in printed
    assert "summed again over the signals kept (arrears_recounted): 1." in printed


@pytest.mark.usefixtures("environment_settings")
def test_audit_verify_command_counts_the_records_and_names_a_broken_one(client, engine):
    _score_and_decide(client, "hh_verified_00001")
    intact = CliRunner().invoke(app, ["audit-verify"])
    assert intact.exit_code == 0, intact.output
    assert "Audit log intact: 2 records verified." in intact.output
    head = intact.output.rsplit(": ", 1)[1].strip()
    assert CliRunner().invoke(app, ["audit-verify", "--checkpoint", head]).exit_code == 0
    ahead = CliRunner().invoke(app, ["audit-verify", "--checkpoint", "3" + head[1:]])
    assert ahead.exit_code != 0
    assert "record 3: record 3 was copied from this chain as a checkpoint" in " ".join(ahead.output.split())
    malformed = CliRunner().invoke(app, ["audit-verify", "--checkpoint", "2:abc"])
    assert malformed.exit_code != 0 and "--checkpoint" in malformed.output and "SEQ:HASH" in malformed.output
    with engine.begin() as connection:
        connection.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="someone-else"))
    broken = CliRunner().invoke(app, ["audit-verify"])
    assert broken.exit_code != 0
    assert "Audit log broken (2 records checked):" in broken.output and "record 2:" in broken.output


def test_export_keeps_the_facts_of_decision_time_labels_what_tells_and_loads_for_training(client, database_url,
                                                                                            tmp_path):
    def decide(pseudonym: str, end_result: str, attempts: list | None = None, **facts: object) -> None:
        item = client.post("/v1/scores", json=batch(household(pseudonym, signal(f"s-{pseudonym}"), **facts)),
                           headers=CASEWORKER).json()["results"][0]
        body = {**DECISION, "end_result": end_result}
        if end_result == "no_contact_possible":  # a letter nobody answered
            body["contact_attempts"] = [{**DECISION["contact_attempts"][0], "reached": False}]
        if attempts is not None:
            body["contact_attempts"] = attempts
        assert client.post(f"/v1/review-items/{item['review_item_id']}/decisions", json=body,
                           headers=CASEWORKER).status_code == 201

    decide("hh_referred_00001", "financial_follow_up")
    decide("hh_paid_000000001", "already_paid")
    decide("hh_unreached_0001", "no_contact_possible")
    # Paid, as the partner told, but nobody reached: no finding of a conversation, so no label.
    decide("hh_paid_unreached", "already_paid", attempts=[{**DECISION["contact_attempts"][0], "reached": False}])
    # After the decision a new signal arrives, with the facts as they are now: the referral shows.
    later = household("hh_referred_00001", signal("s-later", partner="water", days_ago=1), prior_debt_assistance=True)
    assert client.post("/v1/scores", json=batch(later), headers=CASEWORKER).status_code == 200

    report = commands.export_decisions(tmp_path, make_settings(database_url))
    assert (report.decisions, report.labelled, report.facts_from_household_row) == (4, 2, 0)
    households = pd.read_parquet(tmp_path / "households.parquet").set_index("household_id")
    assert not households.loc["hh_referred_00001", "prior_debt_assistance"]  # as it was at the decision
    outcomes = OutcomeSchema.validate(pd.read_parquet(tmp_path / "outcomes.parquet"))
    assert dict(zip(outcomes["household_id"], outcomes["problematic_debt_12m"], strict=True)) == {
        "hh_referred_00001": True, "hh_paid_000000001": False
    }
    # With the audit attributes a municipality adds from its own records, the tables load like any training data.
    pd.DataFrame({"household_id": households.index, "age_band": "35-44", "gender": "female", "origin": "dutch",
                  "neighbourhood": "centrum"}).to_parquet(tmp_path / "audit.parquet", index=False)
    # The export's own dataset config says how the label was made (the model card repeats it).
    config = load_dataset_config(tmp_path / "dataset.yaml")
    assert "caseworker's finding" in config.label_description and "selection-biased" in config.label_description
    dataset = load_dataset(config)
    assert dataset.rows == 2 and sorted(dataset.y.tolist()) == [False, True]


@pytest.mark.usefixtures("environment_settings")
def test_an_export_leaves_out_decisions_whose_signals_a_purge_deleted(client, database_url, engine, clock,
                                                                      tmp_path):
    # A case is decided some days after its signal came in: for a while the purge has deleted the signal and kept
    # the decision, which was exported as a labelled row without signals (a referral with no arrears at all).
    items = {}
    for pseudonym in ("hh_purged_case_01", "hh_purged_case_02"):
        items[pseudonym] = client.post("/v1/scores", json=batch(household(pseudonym, signal(f"s-{pseudonym}"))),
                                       headers=CASEWORKER).json()["results"][0]["review_item_id"]
    clock.advance(days=20)
    attempt = {**DECISION["contact_attempts"][0], "attempted_on": clock.now.date().isoformat()}
    for item_id in items.values():
        decided = client.post(f"/v1/review-items/{item_id}/decisions",
                              json={**DECISION, "contact_attempts": [attempt]}, headers=CASEWORKER)
        assert decided.status_code == 201
    settings = make_settings(database_url)
    before = commands.export_decisions(tmp_path / "before", settings)
    assert (before.decisions, before.skipped_purged_history) == (2, 0)
    purge_settings = make_settings(database_url, retention_days=30, cooldown_days=30)
    report = commands.purge(purge_settings, now=clock.now + dt.timedelta(days=15))  # 35 days after the signals
    assert (report.deleted["signals"], report.deleted["decisions"]) == (2, 0)
    after = commands.export_decisions(tmp_path / "after", settings)
    assert (after.decisions, after.labelled, after.skipped_purged_history) == (0, 0, 2)
    assert pd.read_parquet(tmp_path / "after" / "decisions.parquet").empty
    with engine.connect() as connection:
        detail = connection.execute(
            select(AuditRecord.detail).where(AuditRecord.action == AuditAction.EXPORT_DECISIONS)
            .order_by(AuditRecord.seq.desc()).limit(1)
        ).scalar_one()
    assert detail["skipped_purged_history"] == 2
    printed = CliRunner().invoke(app, ["export-decisions", "--out", str(tmp_path / "cli")])
    assert printed.exit_code == 0, printed.output
    assert "2 decisions left out: the retention purge deleted signals" in " ".join(printed.output.split())


def _decide_each(client, end_results: dict[str, str]) -> None:  # noqa: ANN001
    """Score each household (one rent signal) and decide its case with the end result given."""
    for pseudonym, end_result in end_results.items():
        item = client.post("/v1/scores", json=batch(household(pseudonym, signal(f"s-{pseudonym}", amount=400.0))),
                           headers=CASEWORKER).json()["results"][0]
        assert client.post(f"/v1/review-items/{item['review_item_id']}/decisions",
                           json={**DECISION, "end_result": end_result}, headers=CASEWORKER).status_code == 201


def _training_row(export_dir: Path, pseudonym: str) -> pd.Series:
    """The features of ``pseudonym``'s labelled row when the export is loaded for training (with audit attributes
    for every exported household, as a municipality adds them)."""
    households = pd.read_parquet(export_dir / "households.parquet")["household_id"]
    pd.DataFrame({"household_id": households, "age_band": "35-44", "gender": "female", "origin": "dutch",
                  "neighbourhood": "centrum"}).to_parquet(export_dir / "audit.parquet", index=False)
    dataset = load_dataset(load_dataset_config(export_dir / "dataset.yaml"))
    return dataset.frame.iloc[list(dataset.ids).index(pseudonym)]


def test_a_signal_received_after_the_decisions_reference_date_stays_out_of_its_features(client, database_url, clock,
                                                                                         tmp_path):
    _decide_each(client, {"hh_late_signal_01": "financial_follow_up", "hh_paid_in_time_1": "already_paid"})
    # Three days on, the energy company sends a crisis signal dated before that reference date.
    clock.advance(days=3)
    late = {**signal("s-late", partner="energy", amount=2_000.0, crisis=True), "signal_date": TODAY.isoformat()}
    assert client.post("/v1/scores", json=batch(household("hh_late_signal_01", late)),
                       headers=CASEWORKER).status_code == 200
    commands.export_decisions(tmp_path, make_settings(database_url))
    signals = pd.read_parquet(tmp_path / "signals.parquet").set_index("signal_id")
    assert signals.loc["s-late", "known_date"] == pd.Timestamp(TODAY + dt.timedelta(days=3))
    # The decision's row holds what was known when the household was scored: not the late crisis signal.
    row = _training_row(tmp_path, "hh_late_signal_01")
    assert (row["crisis_signal_3m"], row["signals_12m"], row["energy_arrears_eur"]) == (0, 1, 0.0)


def test_a_batch_sent_after_a_decision_for_a_past_date_stays_out_of_that_decisions_features(client, database_url,
                                                                                             clock, tmp_path):
    # Its signals carry the batch's reference date, before the decision's: they counted in the decision's row.
    _decide_each(client, {"hh_backlog_000001": "financial_follow_up", "hh_backlog_000002": "already_paid"})
    clock.advance(days=5)
    late = signal("s-backlog", partner="energy", amount=3_000.0, days_ago=25, crisis=True)
    backlog = {**batch(household("hh_backlog_000001", late)),
               "reference_date": (TODAY - dt.timedelta(days=20)).isoformat()}
    assert client.post("/v1/scores", json=backlog, headers=CASEWORKER).status_code == 200
    commands.export_decisions(tmp_path, make_settings(database_url))
    signals = pd.read_parquet(tmp_path / "signals.parquet").set_index("signal_id")
    assert signals.loc["s-backlog", "known_date"] == pd.Timestamp(TODAY + dt.timedelta(days=1))
    row = _training_row(tmp_path, "hh_backlog_000001")
    assert (row["crisis_signal_3m"], row["signals_12m"], row["energy_arrears_eur"]) == (0, 1, 0.0)


def test_signals_of_a_request_for_a_past_date_and_a_later_correction_stay_in_the_decisions_features(
    client, database_url, clock, tmp_path
):
    # Marked by the day they were received, the signals of a request for a past reference date and a correction sent
    # after the decision fell out of the decision's training row (0 signals, 0 arrears, the label kept).
    past = TODAY - dt.timedelta(days=60)
    for pseudonym, end_result in (("hh_past_date_0001", "financial_follow_up"), ("hh_past_paid_0001", "already_paid")):
        body = {**batch(household(pseudonym, signal(f"s-{pseudonym}", days_ago=65, amount=900.0))),
                "reference_date": past.isoformat()}
        item = client.post("/v1/scores", json=body, headers=CASEWORKER).json()["results"][0]
        assert client.post(f"/v1/review-items/{item['review_item_id']}/decisions",
                           json={**DECISION, "end_result": end_result}, headers=CASEWORKER).status_code == 201
    clock.advance(days=2)
    correction = {**signal("s-hh_past_date_0001-c", days_ago=65, amount=1_500.0),
                  "replaces_signal_id": "s-hh_past_date_0001"}
    assert client.post("/v1/scores", json=batch(household("hh_past_date_0001", correction)),
                       headers=CASEWORKER).status_code == 200
    commands.export_decisions(tmp_path, make_settings(database_url))
    pd.DataFrame({"household_id": ["hh_past_date_0001", "hh_past_paid_0001"], "age_band": "35-44",
                  "gender": "female", "origin": "dutch", "neighbourhood": "centrum"}).to_parquet(
        tmp_path / "audit.parquet", index=False
    )
    dataset = load_dataset(load_dataset_config(tmp_path / "dataset.yaml"))
    rows = dataset.frame.set_index(pd.Index(dataset.ids))
    assert (rows.loc["hh_past_paid_0001", "signals_12m"], rows.loc["hh_past_paid_0001", "rent_arrears_eur"]) == (1, 900.0)
    # The correction counts from the date the signal it corrects counted from, with the corrected amount.
    assert (rows.loc["hh_past_date_0001", "signals_12m"], rows.loc["hh_past_date_0001", "rent_arrears_eur"]) == (
        1, 1_500.0
    )


def test_in_the_rule_based_order_a_decision_is_exported_at_its_requests_reference_date(client, database_url, tmp_path):
    # Without a score the export took the day the case was opened: two cases sent for two past dates became one row
    # and one label was lost.
    client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"}, headers=auth(Role.ADMIN))
    for days_ago, end_result in ((60, "financial_follow_up"), (20, "already_paid")):
        reference = TODAY - dt.timedelta(days=days_ago)
        body = {**batch(household("hh_rule_dates_001", signal(f"s-{days_ago}", days_ago=days_ago + 5))),
                "reference_date": reference.isoformat()}
        item = client.post("/v1/scores", json=body, headers=CASEWORKER).json()["results"][0]
        # The second case is held back (contacted in the first): working it anyway is a departure, with a reason.
        decision = {**DECISION, "end_result": end_result, "departure_reason": "new signal, called back anyway"}
        decided = client.post(f"/v1/review-items/{item['review_item_id']}/decisions", json=decision,
                              headers=CASEWORKER)
        assert decided.status_code == 201, decided.text
    commands.export_decisions(tmp_path, make_settings(database_url))
    outcomes = pd.read_parquet(tmp_path / "outcomes.parquet").sort_values("reference_date")
    assert [(row.reference_date.date(), row.problematic_debt_12m) for row in outcomes.itertuples()] == [
        (TODAY - dt.timedelta(days=60), True), (TODAY - dt.timedelta(days=20), False)
    ]


EXPORT_FILES = {"decisions.parquet", "households.parquet", "outcomes.parquet", "signals.parquet", "dataset.yaml"}


@pytest.mark.parametrize("code", ["gm0344", "GM344", "0344", "GM03440", "GM0344 "])
def test_an_export_for_a_malformed_municipality_code_is_refused_before_anything_is_written(
    client, database_url, engine, tmp_path, code
):
    _score_and_decide(client, "hh_exported_00001")
    commands.export_decisions(tmp_path, make_settings(database_url))
    before = row_counts(engine)["audit_log"]
    with pytest.raises(ConfigError, match=re.escape(MSG_MUNICIPALITY_CODE.format(code=code))):
        commands.export_decisions(tmp_path, make_settings(database_url), municipality=code)
    assert row_counts(engine)["audit_log"] == before
    assert pd.read_parquet(tmp_path / "decisions.parquet")["household_id"].tolist() == ["hh_exported_00001"]


@pytest.mark.parametrize("municipality", [None, MUNICIPALITY], ids=["not-named", "named"])
def test_an_export_is_audited_under_the_municipality_of_its_decisions(client, database_url, engine, tmp_path,
                                                                     municipality):
    _score_and_decide(client, "hh_exported_00001")
    commands.export_decisions(tmp_path, make_settings(database_url), municipality=municipality)
    with engine.connect() as connection:
        audited = connection.execute(
            select(AuditRecord.municipality_code).where(AuditRecord.action == AuditAction.EXPORT_DECISIONS)
        ).scalar_one()
    assert audited == MUNICIPALITY


def _largest_parameter_count(out: Path, database_url: str) -> int:
    """Export into ``out``; the most parameters one statement of the export bound."""
    counts: list[int] = []

    def count(_connection, _cursor, _statement, parameters, _context, _executemany) -> None:  # noqa: ANN001
        counts.append(len(parameters))

    event.listen(Engine, "before_cursor_execute", count)
    try:
        commands.export_decisions(out, make_settings(database_url))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return max(counts)


def test_an_export_binds_no_more_parameters_for_many_decisions_than_for_one(make_client, database_url,
                                                                            tmp_path):
    # PostgreSQL takes at most 65,535 parameters in a statement, and a big city has ~86,000 decisions: an
    # export that bound one per decision or household would fail there.
    many = 150
    client = make_client(max_batch_size=many)
    _score_and_decide(client, "hh_one_of_many_0000")
    one = _largest_parameter_count(tmp_path / "one", database_url)
    body = batch(*(household(f"hh_one_of_many_{n:04d}", signal(f"s-many-{n}")) for n in range(1, many + 1)))
    scored = client.post("/v1/scores", json=body, headers=CASEWORKER)
    assert scored.status_code == 200, scored.text
    for result in scored.json()["results"]:
        assert client.post(f"/v1/review-items/{result['review_item_id']}/decisions", json=DECISION,
                           headers=CASEWORKER).status_code == 201
    assert _largest_parameter_count(tmp_path / "many", database_url) == one
    exported = pd.read_parquet(tmp_path / "many" / "decisions.parquet")
    assert len(exported) == many + 1 and exported["reached"].all()
    assert len(pd.read_parquet(tmp_path / "many" / "signals.parquet")) == many + 1


def test_export_writes_the_four_tables_and_one_audit_record(client, database_url, engine, tmp_path):
    _score_and_decide(client, "hh_exported_00001")
    before = row_counts(engine)["audit_log"]
    commands.export_decisions(tmp_path / "new" / "export", make_settings(database_url))
    assert {path.name for path in (tmp_path / "new" / "export").iterdir()} == EXPORT_FILES
    assert {path.name for path in tmp_path.rglob("*")} == {"new", "export"} | EXPORT_FILES  # no staging folder left
    assert row_counts(engine)["audit_log"] == before + 1


def test_export_into_an_existing_folder_replaces_the_tables_and_keeps_other_files(client, database_url, tmp_path):
    _score_and_decide(client, "hh_exported_00001")
    (tmp_path / "decisions.parquet").write_text("an older export", encoding="utf-8")
    (tmp_path / "audit.parquet").write_text("the municipality's own file", encoding="utf-8")
    (tmp_path / "dataset.yaml").write_text("the data scientist's own config", encoding="utf-8")
    commands.export_decisions(tmp_path, make_settings(database_url))
    assert {path.name for path in tmp_path.iterdir()} == EXPORT_FILES | {"audit.parquet"}
    assert pd.read_parquet(tmp_path / "decisions.parquet")["household_id"].tolist() == ["hh_exported_00001"]
    assert (tmp_path / "audit.parquet").read_text(encoding="utf-8") == "the municipality's own file"
    assert (tmp_path / "dataset.yaml").read_text(encoding="utf-8") == "the data scientist's own config"


def test_an_export_without_decisions_still_has_the_contracts_columns(client, database_url, tmp_path):
    report = commands.export_decisions(tmp_path, make_settings(database_url))
    assert report.decisions == 0
    for name, schema in (("signals", SignalSchema), ("households", HouseholdSchema), ("outcomes", OutcomeSchema)):
        frame = pd.read_parquet(tmp_path / f"{name}.parquet")
        assert frame.empty and set(schema.to_schema().columns) <= set(frame.columns), name
    assert "end_result" in pd.read_parquet(tmp_path / "decisions.parquet").columns


@pytest.mark.parametrize("out", ["afile", "afile/export"], ids=["a-file", "under-a-file"])
def test_export_to_or_under_a_regular_file_is_refused_without_audit_or_leftovers(client, database_url, engine,
                                                                                 tmp_path, out):
    _score_and_decide(client, "hh_exported_00001")
    (tmp_path / "afile").write_text("", encoding="utf-8")
    before = row_counts(engine)["audit_log"]
    with pytest.raises(ConfigError, match=f"--out: .* {MSG_OUT_NOT_A_FOLDER}"):
        commands.export_decisions(tmp_path / out, make_settings(database_url))
    assert row_counts(engine)["audit_log"] == before
    assert [path.name for path in tmp_path.iterdir()] == ["afile"]


def test_export_failing_to_write_audits_nothing_and_leaves_nothing(client, database_url, engine, tmp_path,
                                                                   monkeypatch):
    _score_and_decide(client, "hh_exported_00001")
    before = row_counts(engine)["audit_log"]
    written = []

    def disk_fills_up(frame, path, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        path.write_bytes(b"the first table")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_fills_up)
    with pytest.raises(ConfigError, match=f"--out: {MSG_OUT_NOT_WRITTEN}.*No space left on device"):
        commands.export_decisions(tmp_path / "export", make_settings(database_url))
    assert row_counts(engine)["audit_log"] == before
    assert list(tmp_path.iterdir()) == []


def test_export_whose_audit_fails_removes_the_written_tables(client, database_url, engine, tmp_path, monkeypatch):
    _score_and_decide(client, "hh_exported_00001")
    before = row_counts(engine)["audit_log"]

    def audit_log_unavailable(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("INSERT INTO audit_log", {}, Exception("database is locked"))

    monkeypatch.setattr(export, "audit", audit_log_unavailable)
    with pytest.raises(OperationalError):
        commands.export_decisions(tmp_path / "export", make_settings(database_url))
    assert row_counts(engine)["audit_log"] == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("environment_settings")
def test_export_command_under_a_regular_file_names_out_without_a_traceback(client, engine, tmp_path):
    _score_and_decide(client, "hh_exported_00001")
    (tmp_path / "afile").write_text("", encoding="utf-8")
    before = row_counts(engine)["audit_log"]
    result = CliRunner().invoke(app, ["export-decisions", "--out", str(tmp_path / "afile" / "export")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Error: --out:" in result.output and MSG_OUT_NOT_A_FOLDER in result.output
    assert "Traceback" not in result.output
    assert row_counts(engine)["audit_log"] == before
    assert [path.name for path in tmp_path.iterdir()] == ["afile"]


def test_an_administrative_step_is_not_reaching_the_resident_in_the_export(client, database_url, tmp_path):
    item = client.post("/v1/scores", json=batch(household("hh_paperwork_0001", signal("s-paper"))),
                       headers=CASEWORKER).json()["results"][0]
    body = {**DECISION, "end_result": "not_a_resident", "contact_attempts": [
        {"kind": "administrative", "reached": True, "attempted_on": TODAY.isoformat(), "part_of_day": "morning"}]}
    assert client.post(f"/v1/review-items/{item['review_item_id']}/decisions", json=body,
                       headers=CASEWORKER).status_code == 201
    commands.export_decisions(tmp_path, make_settings(database_url))
    assert pd.read_parquet(tmp_path / "decisions.parquet")["reached"].tolist() == [False]
