"""Fixtures of the page tests that need no browser: the app with the fake scorer over a migrated SQLite database
(emptied before each test), a clock the test moves, signing in by cookie, and reading a form's CSRF token.

The pages call the service's domain functions, which ``tests/service`` runs against SQLite and PostgreSQL; here one
backend is enough. The browser tests (``test_browser.py``) start a real server of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.service.conftest import (
    Clock,
    TestClient,
    empty_database,
    load_fake,
    make_settings,
    seed_version,
    token,
)
from tests.service.fakes import FakeScorer
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service.app import create_app
from vroegsignaal.service.db import create_db_engine
from vroegsignaal.service.migrate import upgrade_database
from vroegsignaal.service.pages.session import CSRF_FIELD, SESSION_COOKIE

_CSRF_INPUT = re.compile(rf'name="{CSRF_FIELD}" value="([^"]*)"')


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers the marker that keeps the browser tests on one worker; without xdist
    # (``-p no:xdist``) --strict-markers would refuse to collect them.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on the same xdist worker")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('pages-db') / 'service.db'}"
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def session_engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(session_engine: Engine) -> Engine:
    """The database, emptied (the audit chain back at genesis)."""
    return empty_database(session_engine)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def start_client(
    engine: Engine, database_url: str, clock: Clock, *, seed_status: ModelStatus | None = ModelStatus.CHAMPION,
    base_url: str = "http://testserver", scorer: FakeScorer | None = FakeScorer(), **overrides: Any,
) -> TestClient:
    """Build the app (the fake scorer as champion unless told otherwise; ``scorer=None`` for no model at all) and
    enter its lifespan; the caller leaves it (``client.__exit__``)."""
    if seed_status is not None and scorer is not None:
        seed_version(engine, scorer.model_version, seed_status)
    settings = make_settings(database_url, **overrides)
    app = create_app(settings, scorer=scorer, clock=clock, scorer_loader=load_fake)
    client = TestClient(app, base_url=base_url, raise_server_exceptions=False, follow_redirects=False)
    client.__enter__()
    return client


@pytest.fixture
def make_client(engine: Engine, database_url: str, clock: Clock) -> Iterator[Callable[..., TestClient]]:
    """Build apps with :func:`start_client`, left when the test ends."""
    clients: list[TestClient] = []

    def build(**options: Any) -> TestClient:
        client = start_client(engine, database_url, clock, **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def sign_in(client: TestClient, role: Role, **claims: Any) -> str:
    """Start a page session for ``role`` the way the sign-in page does (the cookie holds the token)."""
    bearer = token(role, **claims)
    client.cookies.set(SESSION_COOKIE, bearer)
    return bearer


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF_INPUT.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)
