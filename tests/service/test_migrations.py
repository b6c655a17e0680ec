"""Migrations create the schema from empty and match the models exactly (autogenerate finds no difference)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.orm import Session

from tests.service.conftest import migrate_at_once, postgres_schema
from vroegsignaal.service.audit import GENESIS_HASH
from vroegsignaal.service.db import create_db_engine
from vroegsignaal.service.migrate import alembic_config, upgrade_database
from vroegsignaal.service.models import AuditChainHead, Base, Household, ServiceSwitch
from vroegsignaal.service.switches import current_ordering


def test_upgrade_from_empty_creates_every_table_and_the_chain_head(session_engine):
    tables = set(inspect(session_engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    with session_engine.connect() as connection:
        head = connection.execute(select(AuditChainHead)).one()
    assert head.id == 1 and head.anchor_hash == GENESIS_HASH


def test_models_and_migrations_do_not_differ(session_engine):
    with session_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # noqa: ANN001
    """An empty database of each backend, for one test that migrates it step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'steps.db'}"
        return
    with postgres_schema("vs_steps") as url:
        yield url


def test_the_one_ordering_switch_becomes_one_per_municipality_and_back(unmigrated_url):
    upgrade_database(unmigrated_url, revision="0002")
    engine = create_db_engine(unmigrated_url)
    moment = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    facts = {"team": "team-noord", "household_type": "single", "benefit_type": "none", "municipal_tax_arrears_eur": 0.0,
             "municipal_tax_remission": False, "prior_debt_assistance": False, "recent_move": False,
             "first_seen_at": moment, "updated_at": moment}
    with engine.begin() as connection:
        connection.execute(insert(Household), [
            {"municipality_code": "GM0344", "household_pseudonym": "hh_steps_00000001", **facts},
            {"municipality_code": "GM0344", "household_pseudonym": "hh_steps_00000002", **facts},
            {"municipality_code": "GM0363", "household_pseudonym": "hh_steps_00000003", **facts},
        ])
        connection.execute(insert(ServiceSwitch).values(
            key="ordering_mode", value="rule", reason="model under review", changed_by="admin-1", changed_at=moment
        ))
    try:
        upgrade_database(unmigrated_url)
        with Session(engine) as session:
            keys = dict(session.execute(select(ServiceSwitch.key, ServiceSwitch.value)).all())
            assert keys == {"ordering_mode:GM0344": "rule", "ordering_mode:GM0363": "rule"}
            mode, row = current_ordering(session, "GM0363")
            assert mode == "rule" and row is not None
            assert (row.reason, row.changed_by, row.changed_at) == ("model under review", "admin-1", moment)
            assert current_ordering(session, "GM0599")[0] == "model"  # a municipality new to the service
        command.downgrade(alembic_config(unmigrated_url), "0002")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT key, value FROM service_switches")).all()
        assert [tuple(row) for row in rows] == [("ordering_mode", "rule")]
    finally:
        engine.dispose()


def test_the_cooldown_start_is_recomputed_from_contact_that_reached_the_resident(client, engine, database_url):
    from tests.service.conftest import auth, batch, household, signal
    from vroegsignaal.schemas.enums import Role
    from vroegsignaal.service.models import Decision

    caseworker = auth(Role.CASEWORKER)
    scored = client.post("/v1/scores", json=batch(household("hh_migrates_00001", signal("s-1"))), headers=caseworker)
    item_id = scored.json()["results"][0]["review_item_id"]
    attempts = [
        {"kind": "phone", "reached": True, "attempted_on": "2026-03-02", "part_of_day": "morning"},
        {"kind": "letter", "reached": False, "attempted_on": "2026-03-03", "part_of_day": "morning"},
        {"kind": "administrative", "reached": True, "attempted_on": "2026-03-04", "part_of_day": "morning"},
    ]
    decided = client.post(f"/v1/review-items/{item_id}/decisions", headers=caseworker, json={
        "end_result": "declines_help", "chosen_intensity": "letter", "contact_attempts": attempts,
    })
    assert decided.status_code == 201, decided.text

    def last_contact_on() -> dt.date | None:
        with engine.connect() as connection:
            return connection.execute(select(Decision.last_contact_on)).scalar_one()

    assert last_contact_on() == dt.date(2026, 3, 2)
    command.downgrade(alembic_config(database_url), "0004")
    assert last_contact_on() == dt.date(2026, 3, 4)  # before 0005: the latest attempt of any kind
    upgrade_database(database_url)
    assert last_contact_on() == dt.date(2026, 3, 2)


def test_migrating_a_sqlite_file_in_a_folder_not_made_yet_makes_the_folder(tmp_path):
    path = tmp_path / "fresh-checkout" / "var" / "service.db"
    upgrade_database(f"sqlite:///{path}")  # a fresh checkout has no var/ yet
    assert path.is_file()


def test_two_champions_left_by_concurrent_promotions_become_one(unmigrated_url):
    upgrade_database(unmigrated_url, revision="0006")
    engine = create_db_engine(unmigrated_url)
    moment = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for version, changed in (("m-1", moment), ("m-3", moment + dt.timedelta(minutes=1)), ("m-2", moment)):
            connection.execute(
                text("INSERT INTO model_versions (version, model_name, source_uri, status, created_at, "
                     "status_changed_at) VALUES (:v, 'm', :source, 'champion', :t, :t)"),
                {"v": version, "source": f"injected:{version}", "t": changed},
            )
    try:
        upgrade_database(unmigrated_url)
        with engine.connect() as connection:
            statuses = dict(connection.execute(text("SELECT version, status FROM model_versions")).all())
            events = connection.execute(
                text("SELECT version, from_status, to_status, actor FROM model_status_events ORDER BY version")
            ).all()
    finally:
        engine.dispose()
    assert statuses == {"m-1": "retired", "m-2": "retired", "m-3": "champion"}
    assert [tuple(event) for event in events] == [
        ("m-1", "champion", "retired", "migration-0007"), ("m-2", "champion", "retired", "migration-0007")
    ]


@pytest.mark.postgres
def test_replicas_migrating_one_fresh_database_at_once_all_start():
    # Each replica migrates on start; two at once on a fresh PostgreSQL collided (a type or table created twice)
    # and one of them exited. They take turns on an advisory lock now, the second finding the work done.
    with postgres_schema("vs_twostarts") as url:
        failures = migrate_at_once(url)
        engine = create_db_engine(url)
        try:
            tables = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
    assert failures == []
    assert {table.name for table in Base.metadata.sorted_tables} <= tables


def test_a_replica_without_migrations_refuses_a_database_behind_the_code(tmp_path, monkeypatch, capsys):
    """``serve --no-upgrade`` (replicas behind a migration job) started against an older database: /ready said
    ready and every write answered "database unavailable". It now refuses to start, naming the fix, and the
    container's entry point prints that message instead of a traceback."""
    import uvicorn

    from vroegsignaal.errors import ConfigError
    from vroegsignaal.service import __main__ as entry
    from vroegsignaal.service.commands import serve
    from vroegsignaal.service.migrate import MSG_NOT_MIGRATED
    from vroegsignaal.service.settings import build_settings, get_settings

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, revision="0008")
    started = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: started.append(self))
    settings = build_settings(database_url=url, demo_mode=True)
    with pytest.raises(ConfigError, match="the database is at migration 0008"):
        serve(settings, upgrade=False)
    assert started == []
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VROEGSIGNAAL_DEMO_MODE", "true")
    get_settings.cache_clear()  # built from the environment above, and forgotten again after
    try:
        with pytest.raises(SystemExit) as exited:
            entry.main(["--no-upgrade"])
    finally:
        get_settings.cache_clear()
    assert exited.value.code == 2 and started == []
    assert MSG_NOT_MIGRATED.split("{")[0] in capsys.readouterr().err
    serve(settings, upgrade=True)  # migrating first, it starts
    assert len(started) == 1


def test_db_upgrade_says_where_the_database_is_and_never_claims_a_downgrade(tmp_path, monkeypatch):
    """'db upgrade --revision 0005' on a database at the newest migration printed "Database migrated to 0005."
    while nothing changed."""
    from typer.testing import CliRunner

    from vroegsignaal.cli import app
    from vroegsignaal.service.migrate import current_revision

    url = f"sqlite:///{tmp_path / 'service.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade", "--revision", "0002"])
    assert first.exit_code == 0 and "Database migrated from empty to 0002." in first.output
    step = runner.invoke(app, ["db", "upgrade", "--revision", "+1"])  # a relative step is reported as done
    assert step.exit_code == 0 and "Database migrated from 0002 to 0003." in step.output
    runner.invoke(app, ["db", "upgrade"])
    head = current_revision(url)
    assert f"Database is at migration {head}; nothing to do." in runner.invoke(app, ["db", "upgrade"]).output
    back = runner.invoke(app, ["db", "upgrade", "--revision", "0005"])
    assert back.exit_code == 0 and "never goes back, nothing changed" in back.output and head in back.output
    assert current_revision(url) == head
