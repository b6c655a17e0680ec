"""Schemathesis against the OpenAPI document: generated requests to a few endpoints never cause a server error.

The cases come from schemathesis' strategies for the app's own OpenAPI document; they are sent with the test
client of a running app (SQLite and PostgreSQL), signed in as a caseworker.
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.core import NotSet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.conftest import auth, make_settings
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.app import create_app

FUZZED = {("POST", "/v1/scores"), ("POST", "/v1/objections"), ("POST", "/v1/review-items/{item_id}/decisions"),
          ("GET", "/v1/outreach")}


def _strategies():  # noqa: ANN202
    raw = create_app(make_settings("sqlite://")).openapi()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    chosen = [op for op in operations if (op.method.upper(), op.path) in FUZZED]
    assert len(chosen) == len(FUZZED)
    return st.one_of(*(op.as_strategy() for op in chosen))


CASES = _strategies()


@pytest.mark.slow
def test_generated_requests_never_cause_a_server_error(client):
    headers = auth(Role.CASEWORKER)

    @given(case=CASES)
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case) -> None:  # noqa: ANN001
        response = client.request(
            case.method, case.formatted_path, json=None if isinstance(case.body, NotSet) else case.body,
            params=None if isinstance(case.query, NotSet) else case.query, headers=headers,
        )
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)

    check()
