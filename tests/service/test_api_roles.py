"""Every endpoint declares its roles: the whole role x endpoint matrix, and municipality isolation."""

from __future__ import annotations

import pytest

from tests.service.conftest import OTHER_MUNICIPALITY, OTHER_TEAM, auth, batch, household, signal, spoken_to
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service.app import create_app
from vroegsignaal.service.security import MSG_MISSING_TOKEN

ALL = frozenset(Role)
CASEWORKER, DATA_SCIENTIST, ETHICS, ADMIN = Role.CASEWORKER, Role.DATA_SCIENTIST, Role.ETHICS_REVIEWER, Role.ADMIN

#: (method, path template) -> the roles allowed. Written out by hand: the test must fail if a route's roles drift.
ENDPOINT_ROLES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/v1/scores"): frozenset({CASEWORKER, ADMIN}),
    ("GET", "/v1/outreach"): frozenset({CASEWORKER, ADMIN}),
    ("POST", "/v1/review-items/{item_id}/decisions"): frozenset({CASEWORKER}),
    ("GET", "/v1/households/{household_id}"): frozenset({CASEWORKER}),
    ("POST", "/v1/objections"): frozenset({CASEWORKER, ADMIN}),
    ("GET", "/v1/objections"): frozenset({CASEWORKER, ADMIN}),
    ("DELETE", "/v1/objections/{household_id}"): frozenset({CASEWORKER, ADMIN}),
    ("GET", "/v1/models"): ALL,
    ("GET", "/v1/models/current"): ALL,
    ("POST", "/v1/models/discover"): frozenset({DATA_SCIENTIST, ADMIN}),
    ("GET", "/v1/models/{version}"): ALL,
    ("GET", "/v1/models/{version}/card"): ALL,
    ("GET", "/v1/models/{version}/card.html"): ALL,
    ("POST", "/v1/models/{version}/approval"): frozenset({ETHICS}),
    ("POST", "/v1/models/{version}/promote"): frozenset({ADMIN}),
    ("POST", "/v1/admin/reload"): frozenset({ADMIN}),
    ("GET", "/v1/admin/ordering"): ALL,
    ("PUT", "/v1/admin/ordering"): frozenset({ADMIN}),
    ("GET", "/v1/admin/audit/verification"): frozenset({ETHICS, ADMIN}),
    ("GET", "/v1/oversight"): frozenset({ETHICS, ADMIN}),
}
PUBLIC = {("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics")}

PSEUDONYM = "hh_matrix_0000001"
#: Concrete path and a valid body per endpoint, so an allowed role never fails on the request itself.
REQUESTS = {
    ("POST", "/v1/scores"): ("/v1/scores", batch(household(PSEUDONYM, signal("s-1"), team="team-noord"))),
    ("GET", "/v1/outreach"): ("/v1/outreach", None),
    ("POST", "/v1/review-items/{item_id}/decisions"): (
        "/v1/review-items/{item_id}/decisions",
        {"end_result": "declines_help", "chosen_intensity": "letter", "contact_attempts": [spoken_to()]},
    ),
    ("GET", "/v1/households/{household_id}"): (f"/v1/households/{PSEUDONYM}", None),
    ("POST", "/v1/objections"): ("/v1/objections", {"household_id": "hh_objector_00001", "received_on": "2026-03-01"}),
    ("GET", "/v1/objections"): ("/v1/objections", None),
    ("DELETE", "/v1/objections/{household_id}"): ("/v1/objections/hh_withdraws_0001", None),
    ("GET", "/v1/models"): ("/v1/models", None),
    ("GET", "/v1/models/current"): ("/v1/models/current", None),
    ("POST", "/v1/models/discover"): ("/v1/models/discover", None),
    ("GET", "/v1/models/{version}"): ("/v1/models/fake-1", None),
    ("GET", "/v1/models/{version}/card"): ("/v1/models/cand-1/card", None),
    ("GET", "/v1/models/{version}/card.html"): ("/v1/models/cand-1/card.html", None),
    ("POST", "/v1/models/{version}/approval"): (
        "/v1/models/cand-1/approval", {"decision": "approve", "comment": "fairness gates pass, card reviewed"}
    ),
    ("POST", "/v1/models/{version}/promote"): ("/v1/models/fake-1/promote", {}),
    ("POST", "/v1/admin/reload"): ("/v1/admin/reload", None),
    ("GET", "/v1/admin/ordering"): ("/v1/admin/ordering?municipality=GM0344", None),
    ("PUT", "/v1/admin/ordering"): ("/v1/admin/ordering", {"mode": "model", "reason": "matrix test"}),
    ("GET", "/v1/admin/audit/verification"): ("/v1/admin/audit/verification", None),
    ("GET", "/v1/oversight"): ("/v1/oversight?municipality=GM0344", None),
}


def test_the_matrix_covers_every_route_of_the_app(settings):
    paths = create_app(settings).openapi()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert routes == set(ENDPOINT_ROLES) | PUBLIC


@pytest.fixture
def prepared(make_client, engine):
    """A client with a scored household, an objection to withdraw, and a candidate version with a card."""
    from tests.service.conftest import seed_version

    client = make_client()
    seed_version(engine, "cand-1", ModelStatus.CANDIDATE, card={"model": "cand-1"}, html="<html>cand-1</html>")
    # the promote endpoint needs an approved version: fake-1 is champion, so make an approved one to promote
    scored = client.post("/v1/scores", json=REQUESTS[("POST", "/v1/scores")][1], headers=auth(Role.CASEWORKER))
    item_id = scored.json()["results"][0]["review_item_id"]
    client.post("/v1/objections", json={"household_id": "hh_withdraws_0001", "received_on": "2026-03-01"},
                headers=auth(Role.CASEWORKER))
    return client, item_id


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("endpoint", list(ENDPOINT_ROLES), ids=lambda e: f"{e[0]} {e[1]}")
def test_role_matrix(prepared, engine, endpoint, role):
    client, item_id = prepared
    if endpoint == ("POST", "/v1/models/{version}/promote"):
        from tests.service.conftest import seed_version

        seed_version(engine, "approved-1", ModelStatus.APPROVED)
        path, body = "/v1/models/approved-1/promote", {}
    else:
        path, body = REQUESTS[endpoint]
    path = path.format(item_id=item_id)
    response = client.request(endpoint[0], path, json=body, headers=auth(role))
    if role in ENDPOINT_ROLES[endpoint]:
        assert response.status_code < 400, (role, endpoint, response.text)
    else:
        assert response.status_code == 403, (role, endpoint, response.text)
        assert f"role '{role.value}' may not" in response.json()["detail"]


@pytest.mark.parametrize("endpoint", list(ENDPOINT_ROLES), ids=lambda e: f"{e[0]} {e[1]}")
def test_every_endpoint_refuses_a_request_without_token(client, endpoint):
    path, body = REQUESTS[endpoint]
    response = client.request(endpoint[0], path.format(item_id=1), json=body)
    assert response.status_code == 401 and response.json()["detail"] == MSG_MISSING_TOKEN
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_another_municipality_never_sees_a_household(prepared):
    client, item_id = prepared
    outsider = auth(Role.CASEWORKER, municipality=OTHER_MUNICIPALITY)
    household_response = client.get(f"/v1/households/{PSEUDONYM}", headers=outsider)
    decision = client.post(f"/v1/review-items/{item_id}/decisions", json=REQUESTS[
        ("POST", "/v1/review-items/{item_id}/decisions")][1], headers=outsider)
    missing = client.get("/v1/households/hh_nobody_here_001", headers=outsider)
    assert household_response.status_code == decision.status_code == missing.status_code == 404
    # the answer for an existing household of another municipality equals the one for a household that never existed
    assert household_response.json()["detail"] == missing.json()["detail"]
    assert PSEUDONYM not in household_response.text
    listing = client.get("/v1/outreach", headers=outsider).json()
    assert listing["items"] == [] and listing["standard_approach"] == []
    admin_listing = client.get("/v1/outreach", headers=auth(Role.ADMIN, municipality=OTHER_MUNICIPALITY)).json()
    assert admin_listing["items"] == []


def test_another_municipality_sees_none_of_the_decisions_objections_or_keys(prepared):
    """Beyond households and lists: the oversight report's teams, the week's decisions on the list, the
    objections register and an Idempotency-Key are each municipality's own."""
    client, item_id = prepared
    decided = client.post(f"/v1/review-items/{item_id}/decisions", json=REQUESTS[
        ("POST", "/v1/review-items/{item_id}/decisions")][1], headers=auth(Role.CASEWORKER))
    assert decided.status_code == 201
    own = client.get("/v1/oversight", headers=auth(Role.ADMIN)).json()
    assert [team["decisions"] for team in own["teams"]] == [1]
    other_admin = auth(Role.ADMIN, municipality=OTHER_MUNICIPALITY)
    other = client.get("/v1/oversight", headers=other_admin).json()
    assert other["teams"] == [] and all(group["decisions"] == 0 for group in other["control_vs_scored"])
    assert client.get("/v1/outreach", headers=auth(Role.CASEWORKER)).json()["decided_this_week"] == 1
    other_list = client.get("/v1/outreach", headers=auth(Role.CASEWORKER, municipality=OTHER_MUNICIPALITY)).json()
    assert other_list["decided_this_week"] == 0 and other_list["decided_this_week_by_team"] == {}
    assert client.get("/v1/objections", headers=other_admin).json() == []
    # The same key in two municipalities is two requests: neither is refused nor answered with the other's.
    key = {"Idempotency-Key": "batch-2026-03-04-001"}
    ours = client.post("/v1/scores", json=batch(household("hh_key_000000001", signal("k-1"))),
                       headers={**auth(Role.CASEWORKER), **key})
    theirs = client.post("/v1/scores", json=batch(household("hh_key_000000002", signal("k-1")),
                                                  municipality=OTHER_MUNICIPALITY),
                         headers={**auth(Role.CASEWORKER, municipality=OTHER_MUNICIPALITY), **key})
    assert ours.status_code == theirs.status_code == 200
    assert theirs.json()["results"][0]["household_id"] == "hh_key_000000002"


def test_another_team_of_the_same_municipality_cannot_decide(prepared):
    client, item_id = prepared
    response = client.post(
        f"/v1/review-items/{item_id}/decisions",
        json=REQUESTS[("POST", "/v1/review-items/{item_id}/decisions")][1],
        headers=auth(Role.CASEWORKER, team=OTHER_TEAM),
    )
    assert response.status_code == 404


def test_an_admin_switches_the_ordering_of_their_own_municipality_only(make_client):
    client = make_client()
    switched = client.put("/v1/admin/ordering", json={"mode": "rule", "reason": "model under review"},
                          headers=auth(Role.ADMIN))
    assert switched.status_code == 200 and switched.json()["municipality_code"] == "GM0344"
    other_admin = auth(Role.ADMIN, municipality=OTHER_MUNICIPALITY)
    other = client.get("/v1/admin/ordering", headers=other_admin).json()
    assert (other["municipality_code"], other["mode"], other["changed_by"], other["reason"]) == (
        OTHER_MUNICIPALITY, "model", None, None
    )
    body = batch(household("hh_other_city_001", signal("s-1"), team="team-noord"), municipality=OTHER_MUNICIPALITY)
    scored = client.post("/v1/scores", json=body, headers=other_admin)
    assert scored.json()["ordering"] == "model" and scored.json()["model_version"] == "fake-1"
    assert client.get("/v1/outreach?team=team-noord", headers=other_admin).json()["ordering"] == "model"
    # The switched municipality's lists follow the rule; its admin and its reason are not shown to the other one.
    assert client.get("/v1/admin/ordering", headers=auth(Role.CASEWORKER)).json()["mode"] == "rule"
    assert client.get(f"/v1/admin/ordering?municipality={OTHER_MUNICIPALITY}",
                      headers=auth(Role.CASEWORKER)).status_code == 422
    reviewer = client.get("/v1/models/current", headers=auth(Role.ETHICS_REVIEWER)).json()
    assert reviewer["ordering"] == "model" and reviewer["rule_ordered_municipalities"] == ["GM0344"]
    assert client.get("/v1/admin/ordering", headers=auth(Role.ETHICS_REVIEWER)).status_code == 422
