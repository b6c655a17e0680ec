"""Fixtures of the service tests: a migrated database per backend (SQLite and PostgreSQL), a fixed clock, tokens per
role, an app built with the fake scorer, and factories for small explicit requests.

PostgreSQL tests use a schema of their own per test session and worker (dropped at the end), so parallel workers
and other engineers never collide. When the server is unreachable they skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, delete, func, select, text, update

from tests.service.fakes import FakeScorer
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service.app import create_app
from vroegsignaal.service.audit import CHAIN_HEAD_ID, GENESIS_HASH
from vroegsignaal.service.db import create_db_engine
from vroegsignaal.service.migrate import upgrade_database
from vroegsignaal.service.models import AuditChainHead, Base, ModelStatusEvent, ModelVersion
from vroegsignaal.service.security import issue_token
from vroegsignaal.service.settings import Settings, build_settings

with warnings.catch_warnings():
    # Starlette asks for httpx2, which is not installable here; the test client works the same with httpx.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

POSTGRES_URL = os.environ.get("VROEGSIGNAAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
TEST_CONTROL_KEY = "test-control-sample-key"
MUNICIPALITY = "GM0344"
OTHER_MUNICIPALITY = "GM0363"
TEAM = "team-noord"
OTHER_TEAM = "team-zuid"
#: A Wednesday, so "3 working days" is easy to check by hand.
TODAY = dt.date(2026, 3, 4)
NOON = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)


def _postgres_available() -> str | None:
    """``None`` when the server answers, else why not."""
    try:
        with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {type(exc).__name__}"


def _postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database of each backend, for the whole test session of this worker."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'service.db'}"
        upgrade_database(url)
        yield url
        return
    with postgres_schema("vs_test") as url:
        upgrade_database(url)
        yield url


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """A URL on an empty schema of its own on the test PostgreSQL, dropped afterwards; the test is skipped when the
    server does not answer (fails under ``CI=true``)."""
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (required under CI=true)")
        pytest.skip(problem)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def migrate_at_once(url: str, *, replicas: int = 3, wait_seconds: float = 120) -> list[BaseException]:
    """Migrate ``url`` from ``replicas`` threads at once, as replicas starting together do; what they raised (the
    test fails when one still waits after ``wait_seconds``)."""
    import threading

    failures: list[BaseException] = []

    def start() -> None:
        try:
            upgrade_database(url)
        except BaseException as error:  # noqa: BLE001 - reported to the caller
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=wait_seconds)
    assert not any(thread.is_alive() for thread in threads), f"a migration still waits after {wait_seconds} s"
    return failures


@pytest.fixture(scope="session")
def session_engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def empty_database(engine: Engine) -> Engine:
    """Clear every table and put the audit chain back at genesis; returns ``engine``."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != AuditChainHead.__tablename__:
                connection.execute(delete(table))
        connection.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == CHAIN_HEAD_ID)
            .values(last_seq=0, last_hash=GENESIS_HASH, anchor_seq=0, anchor_hash=GENESIS_HASH)
        )
    return engine


@pytest.fixture
def engine(session_engine: Engine) -> Engine:
    """The session's engine over an emptied database (every table cleared, audit chain back at genesis)."""
    return empty_database(session_engine)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: dt.datetime = NOON

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        "control_sample_key": TEST_CONTROL_KEY,
        "control_sample_rate": 0.0,
        "models_dir": None,
        "max_batch_size": 5,
    }
    values.update(overrides)
    return build_settings(**values)


@pytest.fixture
def settings(database_url: str, engine: Engine) -> Settings:
    return make_settings(database_url)


def seed_version(engine: Engine, version: str, status: ModelStatus, *, card: dict | None = None,
                 html: str | None = None) -> None:
    """Put a model version straight into the register (as a previous approval would have)."""
    with engine.begin() as connection:
        connection.execute(
            ModelVersion.__table__.insert().values(
                version=version, model_name="fake", source_uri=f"injected:{version}", status=status.value,
                card_json=card, card_html=html, created_at=NOON, status_changed_at=NOON,
            )
        )
        connection.execute(
            ModelStatusEvent.__table__.insert().values(
                version=version, from_status=None, to_status=status.value, actor="seed", role="seed", comment=None,
                created_at=NOON,
            )
        )


def load_fake(source_uri: str) -> FakeScorer:
    """Loads "injected:VERSION" sources as fake scorers of that version (stands in for bundle loading)."""
    return FakeScorer(model_version=source_uri.split(":", 1)[1])


@pytest.fixture
def make_client(engine: Engine, database_url: str, clock: Clock) -> Iterator[Callable[..., TestClient]]:
    """Build an app (fake scorer, champion unless told otherwise) and enter its lifespan."""
    clients: list[TestClient] = []

    def build(*, scorer: Any = None, seed_status: ModelStatus | None = ModelStatus.CHAMPION,
              registry_mirror: Any = None, **overrides: Any) -> TestClient:
        scorer = scorer if scorer is not None else FakeScorer()
        if seed_status is not None:
            seed_version(engine, scorer.model_version, seed_status)
        settings = make_settings(overrides.pop("database_url", database_url), **overrides)
        app = create_app(settings, scorer=scorer, clock=clock, scorer_loader=load_fake, registry_mirror=registry_mirror)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        client.app_settings = settings  # type: ignore[attr-defined]
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def token(role: Role, *, municipality: str | None = MUNICIPALITY, team: str | None = TEAM, subject: str | None = None,
          expires_in: dt.timedelta = dt.timedelta(hours=1), now: dt.datetime | None = None,
          secret: str = TEST_SECRET) -> str:
    settings = build_settings(jwt_secret=secret, control_sample_key=TEST_CONTROL_KEY, demo_mode=True)
    scoped = {
        Role.CASEWORKER: {"municipality": municipality, "team": team},
        Role.ADMIN: {"municipality": municipality},
    }.get(role, {})
    return issue_token(settings, subject=subject or f"user-{role.value}", role=role, expires_in=expires_in,
                       now=now or dt.datetime.now(dt.UTC), **scoped)


def forged_token(kid: str) -> str:
    """What anyone can write: a header naming key ``kid`` with RS256, any payload, a junk signature."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode()
    return f"{part(header)}.{part(b'{}')}.{part(b'junk')}"


def auth(role: Role, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, **claims)}"}


def signal(signal_id: str, *, partner: str = "rent", amount: float = 1000.0, days_ago: int = 10,
           started_days_ago: int | None = None, crisis: bool = False, end_of_supply: bool = False) -> dict[str, Any]:
    day = TODAY - dt.timedelta(days=days_ago)
    start = TODAY - dt.timedelta(days=started_days_ago if started_days_ago is not None else days_ago + 40)
    return {
        "signal_id": signal_id,
        "partner_type": partner,
        "amount_eur": amount,
        "arrears_start_date": start.isoformat(),
        "signal_date": day.isoformat(),
        "crisis": crisis,
        "warm_handover": False,
        "end_of_supply": end_of_supply,
    }


def spoken_to(kind: str = "phone", *, on: dt.date = TODAY) -> dict[str, Any]:
    """A contact attempt that reached the resident: what a decision "declines help" or "advice" needs."""
    return {"kind": kind, "reached": True, "attempted_on": on.isoformat(), "part_of_day": "morning"}


def household(pseudonym: str, *signals: dict[str, Any], team: str | None = None, **facts: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "household_id": pseudonym,
        "facts": {"household_type": "single", "benefit_type": "none", **facts},
        "signals": list(signals),
    }
    if team is not None:
        body["team"] = team
    return body


def batch(*households: dict[str, Any], municipality: str = MUNICIPALITY) -> dict[str, Any]:
    """A scoring request; without a reference date the service uses its (test) clock's today."""
    return {"municipality_code": municipality, "households": list(households)}


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, to prove a refused request changed nothing."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }
