"""Every page admits the roles its API endpoint admits and nobody else, and never shows another municipality's (or
another team's) households — not even when the URL is typed in."""

from __future__ import annotations

import re

import pytest
from tests.model_cards.factories import card_dict
from tests.pages.conftest import csrf_of, sign_in
from tests.service.conftest import OTHER_MUNICIPALITY, OTHER_TEAM, auth, batch, household, row_counts, seed_version
from tests.service.conftest import signal
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.service.deps import (
    ADMIN_ROLES,
    ALL_ROLES,
    CASEWORKER_ROLES,
    ETHICS_ROLES,
    OVERSIGHT_ROLES,
    QUEUE_ROLES,
)
from vroegsignaal.service.pages import ROUTERS
from vroegsignaal.service.pages.i18n import Translator
from vroegsignaal.service.pages.routing import PageRoute
from vroegsignaal.service.pages.session import CSRF_FIELD

NL = Translator("nl")
HOUSEHOLD = "hh_access_0000001"
CARD_VERSION = "card-2"

#: Every page behind a session: method, path, who may open it (the API's role sets), and a form for a POST.
PAGES: list[tuple[str, str, frozenset[Role], dict[str, str]]] = [
    ("GET", "/", QUEUE_ROLES, {}),
    ("GET", f"/huishoudens/{HOUSEHOLD}", CASEWORKER_ROLES, {}),
    ("POST", f"/huishoudens/{HOUSEHOLD}/beslissing", CASEWORKER_ROLES, {"review_item_id": "1"}),
    ("GET", "/bezwaren", QUEUE_ROLES, {}),
    ("POST", "/bezwaren", QUEUE_ROLES, {"household_id": "", "received_on": ""}),
    ("POST", f"/bezwaren/{HOUSEHOLD}/intrekken", QUEUE_ROLES, {}),
    ("GET", "/modellen", ALL_ROLES, {}),
    ("GET", f"/modellen/vergelijk?a=fake-1&b={CARD_VERSION}", ALL_ROLES, {}),
    ("GET", f"/modellen/{CARD_VERSION}", ALL_ROLES, {}),
    ("GET", f"/modellen/{CARD_VERSION}/kaart", ALL_ROLES, {}),
    ("POST", f"/modellen/{CARD_VERSION}/beoordeling", ETHICS_ROLES, {"decision": "", "comment": ""}),
    ("POST", f"/modellen/{CARD_VERSION}/in-gebruik", ADMIN_ROLES, {}),
    ("GET", "/toezicht", OVERSIGHT_ROLES, {}),
]
#: Pages anyone may open (signing in, the language switch).
PUBLIC = {("GET", "/sign-in"), ("POST", "/sign-in"), ("GET", "/taal/{lang}")}


def _route_key(method: str, path: str) -> tuple[str, str]:
    """The route template of a concrete path in the table above."""
    template = (
        path.split("?")[0]
        .replace(HOUSEHOLD, "{household_id}")
        .replace(f"/{CARD_VERSION}", "/{version}")
    )
    return method, template


def seed_world(client, engine):  # noqa: ANN001, ANN201
    """One household of the demo municipality's team, and a candidate version with a card: what the pages of the
    table show. Returns ``client``."""
    seed_version(engine, CARD_VERSION, ModelStatus.CANDIDATE, card=card_dict(), html="<html lang='nl'></html>")
    response = client.post("/v1/scores", json=batch(household(HOUSEHOLD, signal("s-1"))),
                           headers=auth(Role.CASEWORKER))
    assert response.status_code == 200
    return client


@pytest.fixture
def world(client, engine):  # noqa: ANN001, ANN201
    return seed_world(client, engine)


def test_every_page_route_is_in_the_table():
    routes = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, PageRoute)
        for method in route.methods
    }
    assert all(isinstance(route, PageRoute) for router in ROUTERS for route in router.routes)
    covered = {_route_key(method, path) for method, path, _, _ in PAGES} | PUBLIC | {("POST", "/sign-out")}
    assert routes == covered


def _main(html: str) -> str:
    """The page's main content without the request id (which differs per request)."""
    main = html.split('<main id="main" tabindex="-1">', 1)[1].split("</main>", 1)[0]
    return re.sub(r"[0-9a-f]{32}", "<request id>", main)


def open_page(client, method: str, path: str, form: dict[str, str]):  # noqa: ANN001, ANN202
    """A page of the table; a POST sends ``form`` with the session's CSRF token."""
    if method == "GET":
        return client.get(path)
    csrf = csrf_of(client.get("/modellen").text)  # every role may open the models page, so it gives the token
    return client.post(path, data={**form, CSRF_FIELD: csrf})


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_each_role_opens_exactly_the_pages_its_api_allows(world, engine, role):
    sign_in(world, role)
    for method, path, allowed, form in PAGES:
        before = row_counts(engine) if method == "POST" else None
        response = open_page(world, method, path, form)
        if role in allowed:
            # Opened: a GET shows its page; a POST with this bare form is refused for its content, never broken.
            expected = {200} if method == "GET" else {303, 404, 409, 422}
            assert response.status_code in expected, (method, path, response.status_code)
        else:
            assert response.status_code == 403, (method, path)
            assert NL("error.forbidden") in response.text and NL("error.back") in response.text
            if before is not None:
                assert row_counts(engine) == before, (method, path)


def test_another_municipalitys_household_is_not_found_even_by_url(world):
    sign_in(world, Role.CASEWORKER, municipality=OTHER_MUNICIPALITY)
    other = world.get(f"/huishoudens/{HOUSEHOLD}")
    missing = world.get("/huishoudens/hh_never_seen_0001")
    assert other.status_code == missing.status_code == 404
    assert _main(other.text) == _main(missing.text)  # the same answer: existence does not leak
    assert NL("error.not_found") in _main(other.text) and HOUSEHOLD not in _main(other.text)


def test_another_municipality_sees_none_of_the_list_and_cannot_decide_or_withdraw(world, engine):
    world.post("/v1/objections", json={"household_id": HOUSEHOLD, "received_on": "2026-03-01"},
               headers=auth(Role.CASEWORKER))
    sign_in(world, Role.CASEWORKER, municipality=OTHER_MUNICIPALITY)
    assert HOUSEHOLD not in world.get("/").text
    assert HOUSEHOLD not in world.get("/bezwaren").text
    csrf = csrf_of(world.get("/").text)  # reading the list is audited, so before counting
    before = row_counts(engine)
    decided = world.post(f"/huishoudens/{HOUSEHOLD}/beslissing",
                         data={CSRF_FIELD: csrf, "review_item_id": "1", "end_result": "declines_help",
                               "chosen_intensity": "letter", "departure_reason": "asked for a letter"})
    withdrawn = world.post(f"/bezwaren/{HOUSEHOLD}/intrekken", data={CSRF_FIELD: csrf})
    assert decided.status_code == withdrawn.status_code == 404
    assert row_counts(engine) == before


def test_another_team_of_the_same_municipality_cannot_decide_on_the_item(world, engine):
    sign_in(world, Role.CASEWORKER, team=OTHER_TEAM)
    page = world.get("/")
    assert HOUSEHOLD not in page.text
    before = row_counts(engine)
    response = world.post(f"/huishoudens/{HOUSEHOLD}/beslissing",
                          data={CSRF_FIELD: csrf_of(page.text), "review_item_id": "1",
                                "end_result": "declines_help", "chosen_intensity": "letter",
                                "departure_reason": "asked for a letter"})
    assert response.status_code == 404 and row_counts(engine) == before


@pytest.mark.parametrize("item_id", ["", "0", "-1", "1.0", "\u00b2", "\u0661", "99999999999999999999"])
def test_a_changed_review_item_id_in_the_decision_form_is_not_found(world, engine, item_id):
    # "²" and the Arabic-Indic "١" pass str.isdigit() but not int(): the form answered a JSON 500 with a traceback.
    sign_in(world, Role.CASEWORKER)
    page = world.get(f"/huishoudens/{HOUSEHOLD}")
    before = row_counts(engine)
    response = world.post(f"/huishoudens/{HOUSEHOLD}/beslissing",
                          data={CSRF_FIELD: csrf_of(page.text), "review_item_id": item_id,
                                "end_result": "no_contact_possible", "chosen_intensity": "letter"})
    assert response.status_code == 404 and NL("error.not_found") in response.text
    assert row_counts(engine) == before


def test_an_admin_sees_only_their_own_municipality_in_oversight(world):
    sign_in(world, Role.ADMIN, municipality=OTHER_MUNICIPALITY)
    own = world.get("/toezicht")
    assert own.status_code == 200 and f"<h2 id=\"teams-heading\">Teams in gemeente {OTHER_MUNICIPALITY}" in own.text
    assert "team-noord" not in own.text
    other = world.get("/toezicht", params={"municipality": "GM0344"})
    assert other.status_code == 422 and "team-noord" not in other.text
    assert world.get("/toezicht", params={"since": "0001-01-01"}).status_code == 422  # was a 500


def test_an_ethics_reviewer_chooses_a_municipality_first(world):
    sign_in(world, Role.ETHICS_REVIEWER)
    first = world.get("/toezicht")
    assert NL("oversight.choose_municipality") in first.text and '<option value="GM0344"' in first.text
    chosen = world.get("/toezicht", params={"municipality": "GM0344"})
    assert chosen.status_code == 200 and "team-noord" in chosen.text
