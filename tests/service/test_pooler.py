"""The service behind a real PgBouncer in transaction mode (``db_pooler``), as many municipalities' managed
PostgreSQL offers it: migrations (several at once), scoring, decisions, the list, a purge, the audit check and the
timeouts all work, with the server connections shared between two replicas.

Without the setting, psycopg prepares the statements a connection runs often, and PgBouncer before 1.21 (Debian 12
ships 1.18) hands the other replica's next transaction a server connection that already has a statement of that
name: here the twelfth scoring request (the sixth of its replica) answered 503 ("prepared statement "_pg3_0" already
exists").

Needs the ``pgbouncer`` program (``.ci/run`` installs it) and the test PostgreSQL; skipped locally without them,
required under ``CI=true``.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.engine import make_url

from tests.service.conftest import (
    NOON,
    POSTGRES_URL,
    Clock,
    TestClient,
    _postgres_available,
    auth,
    batch,
    household,
    load_fake,
    make_settings,
    migrate_at_once,
    seed_version,
    signal,
    spoken_to,
)
from tests.service.fakes import FakeScorer
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service import commands
from vroegsignaal.service.app import create_app
from vroegsignaal.service.db import create_db_engine, timed_out
from vroegsignaal.service.migrate import upgrade_database
from vroegsignaal.service.settings import Settings

# One worker starts the PgBouncer for the module's tests.
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("pgbouncer")]

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
#: Server connections per database: fewer than the replicas' connections, so these take turns on them.
SERVER_CONNECTIONS = 2
#: How long a client waits for a free server connection before PgBouncer gives up on it: a migration that waited for
#: one for ever (replicas migrating at once, each wanting a second) fails within this instead of hanging the suite.
QUERY_WAIT_SECONDS = 10
#: Scoring requests per test: well past psycopg's five runs of a statement on a connection before it prepares it.
REQUESTS = 24
CASEWORKER = auth(Role.CASEWORKER)
DECISION = {"end_result": "declines_help", "chosen_intensity": "letter", "contact_attempts": [spoken_to()],
            "departure_reason": "declined on the phone"}


@pytest.fixture(scope="module")
def pooled_url() -> Iterator[str]:
    """A URL through a PgBouncer in transaction mode to a database of its own (dropped afterwards), migrated through
    the pooler, with :class:`FakeScorer`'s version as champion."""
    problem = _postgres_available()
    if problem is None and not os.access(PGBOUNCER, os.X_OK):
        problem = "PgBouncer is not installed (apt-get install pgbouncer)"
    if problem is not None:
        _skip_or_fail(problem)
    with ExitStack() as cleanup:
        database = cleanup.enter_context(_database_of_its_own())
        url = cleanup.enter_context(_pgbouncer(database))
        upgrade_database(url)
        seeding = create_db_engine(url, pooler=True)
        try:
            seed_version(seeding, FakeScorer().model_version, ModelStatus.CHAMPION)
        finally:
            seeding.dispose()
        yield url


@contextmanager
def _database_of_its_own() -> Iterator[str]:
    database = f"vs_pooler_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        try:
            yield database
        finally:
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


@contextmanager
def _pgbouncer(database: str) -> Iterator[str]:
    """A PgBouncer in transaction mode in front of ``database``; the URL through it."""
    server = make_url(POSTGRES_URL)
    user = server.username or "postgres"
    folder = Path(tempfile.mkdtemp(prefix="vs-pgbouncer-"))
    try:
        folder.chmod(0o755)  # PgBouncer refuses to run as root: it reads its files as the user it switches to
        port = _free_port()
        (folder / "users.txt").write_text(f'"{user}" ""\n')
        (folder / "pgbouncer.ini").write_text(
            f"[databases]\n{database} = host={server.host} port={server.port or 5432} dbname={database}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\n"
            f"query_wait_timeout = {QUERY_WAIT_SECONDS}\n"
            # The service's start-up options are not sent with the setting; the tests' and libpq's are ignored.
            "ignore_startup_parameters = options,extra_float_digits\n"
            # PgBouncer 1.21 and later can track prepared statements; off, as in 1.18 (Debian 12) and as many run it.
            + ("max_prepared_statements = 0\n" if _version() >= (1, 21) else "")
        )
        for path in folder.iterdir():
            path.chmod(0o644)
        command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            command[1:1] = ["-u", _unprivileged_user()]
        with (folder / "pgbouncer.log").open("w") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/{database}"
                _wait_until_it_answers(url, process, folder / "pgbouncer.log")
                yield url
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _skip_or_fail(problem: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (required under CI=true)")
    pytest.skip(problem)


def _version() -> tuple[int, ...]:
    shown = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"PgBouncer (\d+)\.(\d+)", shown)
    assert match, f"cannot read PgBouncer's version from {shown!r}"
    return int(match[1]), int(match[2])


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    pytest.fail("PgBouncer does not run as root and there is no 'postgres' or 'nobody' user to run it as")


def _wait_until_it_answers(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), connect_timeout=2) as connection:
                connection.execute("SELECT 1")
            return
        except psycopg.Error:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"PgBouncer did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)


def test_replicas_starting_together_migrate_through_the_pooler(pooled_url: str):
    # Three at once on two server connections: each migration needs one, and the waiting ones hold theirs.
    assert migrate_at_once(pooled_url, wait_seconds=QUERY_WAIT_SECONDS + 50) == []


def test_the_service_works_behind_pgbouncer_in_transaction_mode(pooled_url: str):
    settings = make_settings(pooled_url, db_pooler=True, db_timeout_seconds=9)
    with _replicas(settings) as (first, second):
        items = [_score(client, f"hh_pooled_{number:07d}").json()["results"][0]["review_item_id"]
                 for number, client in _turns(first, second)]
        for client in (first, second):
            listed = client.get("/v1/outreach", headers=CASEWORKER)
            assert listed.status_code == 200, listed.text
            mine = [item for item in listed.json()["items"] if item["household_id"].startswith("hh_pooled_")]
            assert len(mine) == REQUESTS
        decided = second.post(f"/v1/review-items/{items[0]}/decisions", json=DECISION, headers=CASEWORKER)
        assert decided.status_code == 201, decided.text
        with first.app.state.services.engine.begin() as connection:
            shown = {name: connection.execute(text(f"SHOW {name}")).scalar_one()
                     for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")}
        assert set(shown.values()) == {"9s"}  # the service's bounds reach its transactions through the pooler
    with commands._session(settings) as session, session.begin():  # what purge, export and audit-verify use
        maintenance = {name: session.execute(text(f"SHOW {name}")).scalar_one()
                       for name in ("statement_timeout", "lock_timeout")}
        prepare_threshold = session.connection().connection.driver_connection.prepare_threshold
    assert maintenance == {"statement_timeout": "0", "lock_timeout": "9s"}
    assert prepare_threshold is None
    report = commands.purge(settings, now=NOON)
    assert report.deleted["signals"] == 0
    verification = commands.audit_verify(settings)
    assert verification.ok, verification


def test_a_statement_over_the_timeout_is_cancelled_through_the_pooler(pooled_url: str):
    engine = create_db_engine(pooled_url, timeout_seconds=1, pooler=True)
    try:
        with pytest.raises(OperationalError) as raised, engine.begin() as connection:
            connection.execute(text("SELECT pg_sleep(5)"))
    finally:
        engine.dispose()
    assert timed_out(raised.value)


def test_without_the_setting_the_log_says_to_set_it(pooled_url: str, caplog: pytest.LogCaptureFixture):
    settings = make_settings(pooled_url, db_pooler=False)
    with _replicas(settings) as (first, second), caplog.at_level(logging.WARNING, logger="vroegsignaal.service"):
        answers = [_score(client, f"hh_unset_{number:08d}", check=False).status_code
                   for number, client in _turns(first, second)]
    assert 503 in answers  # once psycopg prepared what another replica's connection had prepared on the server
    assert "VROEGSIGNAAL_DB_POOLER=true" in caplog.text


@contextmanager
def _replicas(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Two replicas of the service on one database: their connections take turns on the pooler's server
    connections (the model version of :class:`FakeScorer` is champion)."""
    apps = [create_app(settings, scorer=FakeScorer(), clock=Clock(), scorer_loader=load_fake) for _ in range(2)]
    with _client(apps[0]) as first, _client(apps[1]) as second:
        yield first, second


def _turns(first: TestClient, second: TestClient) -> Iterator[tuple[int, TestClient]]:
    for number in range(REQUESTS):
        yield number, (first, second)[number % 2]


def _score(client: TestClient, pseudonym: str, *, check: bool = True) -> Any:
    response = client.post(
        "/v1/scores", json=batch(household(pseudonym, signal(f"s-{pseudonym}"))), headers=CASEWORKER
    )
    if check:
        assert response.status_code == 200, response.text
    return response


def _client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)
