"""Retention purges what is past its period and reports it; the audit log keeps six months and still verifies.
Decisions export as labelled data, with the control-sample marker and without objected households."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import yaml
from sqlalchemy import update
from typer.testing import CliRunner

from tests.service.conftest import TODAY, auth, batch, household, make_settings, row_counts, signal
from vroegsignaal.cli import app
from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.enums import Role
from vroegsignaal.schemas.dataset_config import load_dataset_config
from vroegsignaal.schemas.tables import HouseholdSchema, OutcomeSchema, SignalSchema
from vroegsignaal.service import commands
from vroegsignaal.service.models import AuditRecord
from vroegsignaal.service.settings import get_settings
from vroegsignaal.training.data import load_dataset
from vroegsignaal.training.synth import dataset_config

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
    settings = make_settings(database_url, retention_days=30, audit_retention_days=200)
    nothing = commands.purge(settings, now=clock.now + dt.timedelta(days=10))
    assert all(count == 0 for count in nothing.deleted.values())
    report = commands.purge(settings, now=clock.now + dt.timedelta(days=31))
    assert report.deleted["signals"] == 1 and report.deleted["scores"] == 1
    assert report.deleted["decisions"] == 1 and report.deleted["households"] == 1
    assert report.deleted["audit_log"] == 0  # younger than 200 days
    later = commands.purge(settings, now=clock.now + dt.timedelta(days=201))
    assert later.deleted["audit_log"] == 2  # the score and the decision; the purges' own records are younger
    verification = commands.audit_verify(settings)
    assert verification.ok and verification.first_seq == 3


def test_audit_retention_below_six_months_is_refused(database_url):
    with pytest.raises(ConfigError, match="audit_retention_days"):
        make_settings(database_url, audit_retention_days=90)


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


@pytest.mark.usefixtures("environment_settings")
def test_audit_verify_command_counts_the_records_and_names_a_broken_one(client, engine):
    _score_and_decide(client, "hh_verified_00001")
    intact = CliRunner().invoke(app, ["audit-verify"])
    assert intact.exit_code == 0, intact.output
    assert "Audit log intact: 2 records verified." in intact.output
    with engine.begin() as connection:
        connection.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="someone-else"))
    broken = CliRunner().invoke(app, ["audit-verify"])
    assert broken.exit_code != 0
    assert "Audit log broken (2 records checked):" in broken.output and "record 2:" in broken.output


def test_export_keeps_the_facts_of_decision_time_labels_what_tells_and_loads_for_training(client, database_url,
                                                                                            tmp_path):
    def decide(pseudonym: str, end_result: str, **facts: object) -> None:
        item = client.post("/v1/scores", json=batch(household(pseudonym, signal(f"s-{pseudonym}"), **facts)),
                           headers=CASEWORKER).json()["results"][0]
        body = {**DECISION, "end_result": end_result}
        assert client.post(f"/v1/review-items/{item['review_item_id']}/decisions", json=body,
                           headers=CASEWORKER).status_code == 201

    decide("hh_referred_00001", "financial_follow_up")
    decide("hh_paid_000000001", "already_paid")
    decide("hh_unreached_0001", "no_contact_possible")
    # After the decision a new signal arrives, with the facts as they are now: the referral shows.
    later = household("hh_referred_00001", signal("s-later", partner="water", days_ago=1), prior_debt_assistance=True)
    assert client.post("/v1/scores", json=batch(later), headers=CASEWORKER).status_code == 200

    report = commands.export_decisions(tmp_path, make_settings(database_url))
    assert (report.decisions, report.labelled, report.facts_from_household_row) == (3, 2, 0)
    households = pd.read_parquet(tmp_path / "households.parquet").set_index("household_id")
    assert not households.loc["hh_referred_00001", "prior_debt_assistance"]  # as it was at the decision
    outcomes = OutcomeSchema.validate(pd.read_parquet(tmp_path / "outcomes.parquet"))
    assert dict(zip(outcomes["household_id"], outcomes["problematic_debt_12m"], strict=True)) == {
        "hh_referred_00001": True, "hh_paid_000000001": False
    }
    # With the audit attributes a municipality adds from its own records, the tables load like any training data.
    pd.DataFrame({"household_id": households.index, "age_band": "35-44", "gender": "female", "origin": "dutch",
                  "neighbourhood": "centrum"}).to_parquet(tmp_path / "audit.parquet", index=False)
    config = dataset_config()
    config["data"] = {name: f"{name}.parquet" for name in ("signals", "households", "audit", "outcomes")}
    del config["true_risk"]
    (tmp_path / "dataset.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    dataset = load_dataset(load_dataset_config(tmp_path / "dataset.yaml"))
    assert dataset.rows == 2 and sorted(dataset.y.tolist()) == [False, True]
