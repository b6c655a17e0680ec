"""What the outreach list carries for people working it: the neighbourhood (wijk), the partners that sent signals,
and this week's capacity; and the English model card kept beside the Dutch one."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import (
    OTHER_TEAM,
    TEAM,
    TODAY,
    TestClient,
    auth,
    batch,
    household,
    make_settings,
    row_counts,
    seed_version,
    signal,
)
from tests.service.fakes import FakeScorer
from vroegsignaal.schemas.api import NEIGHBOURHOOD_PATTERN
from vroegsignaal.schemas.enums import ModelStatus, Role
from vroegsignaal.scoring.household import household_features
from vroegsignaal.service.app import create_app
from vroegsignaal.service.runtime import read_bundle_info

CASEWORKER = auth(Role.CASEWORKER)


def _score(client, *households):  # noqa: ANN001, ANN202
    response = client.post("/v1/scores", json=batch(*households), headers=CASEWORKER)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def _items(client) -> dict[str, dict]:  # noqa: ANN001
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()
    return {item["household_id"]: item for item in listing["items"]}


def _with_neighbourhood(body: dict, code: str | None) -> dict:
    return {**body, "neighbourhood": code} if code is not None else body


def test_neighbourhood_is_stored_listed_and_kept_when_a_later_batch_omits_it(client):
    _score(client, _with_neighbourhood(household("hh_wijk_000000001", signal("s-1")), "WK034402"))
    assert _items(client)["hh_wijk_000000001"]["neighbourhood"] == "WK034402"
    _score(client, household("hh_wijk_000000001", signal("s-2", partner="energy")))
    assert _items(client)["hh_wijk_000000001"]["neighbourhood"] == "WK034402"
    history = client.get("/v1/households/hh_wijk_000000001", headers=CASEWORKER).json()
    assert history["neighbourhood"] == "WK034402"


def test_a_new_neighbourhood_replaces_the_stored_one(client):
    _score(client, _with_neighbourhood(household("hh_wijk_000000002", signal("s-1")), "WK034402"))
    _score(client, _with_neighbourhood(household("hh_wijk_000000002", signal("s-2")), "WK034405"))
    assert _items(client)["hh_wijk_000000002"]["neighbourhood"] == "WK034405"


def test_neighbourhood_that_could_be_an_address_is_refused_naming_the_field(client):
    body = _with_neighbourhood(household("hh_wijk_000000003", signal("s-1")), "Kerkstraat 12, 1234 AB")
    response = client.post("/v1/scores", json=batch(body), headers=CASEWORKER)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "households.0.neighbourhood" and error["rule"] == "string_pattern_mismatch"
    assert NEIGHBOURHOOD_PATTERN.strip("^$") in error["message"]


@pytest.mark.parametrize("value", ["1012 AB 5", "1012AB", "Kalverstraat 92", "Dorpsweg 1", "0612345678", "123456782",
                                   "Kalverstraat-92", "Kalverstraat_92", "Hoofdstraat12", "1012-AB 5", "1012-AB-5",
                                   "1012_AB", "Centrum 1012AB"])
def test_a_neighbourhood_that_is_an_address_postcode_or_number_is_refused_without_repeating_it(client, engine, value):
    before = row_counts(engine)
    body = _with_neighbourhood(household("hh_wijk_000000004", signal("s-1")), value)
    response = client.post("/v1/scores", json=batch(body), headers=CASEWORKER)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "households.0.neighbourhood" and "never an address" in error["message"]
    assert value not in response.text  # a neighbourhood's value is never repeated in a message
    assert row_counts(engine) == before


@pytest.mark.parametrize("value", ["WK034402", "BU03440201", "Oud-West", "De Pijp", "Wijk 12", "Centrum"])
def test_neighbourhood_codes_and_names_are_taken(client, value):
    _score(client, _with_neighbourhood(household("hh_wijk_000000005", signal("s-1")), value))
    assert _items(client)["hh_wijk_000000005"]["neighbourhood"] == value


def test_neighbourhood_never_reaches_the_model(engine, database_url, clock):
    seen: list[Mapping[str, Any]] = []

    def recording_builder(
        signals: Sequence[Mapping[str, Any]], facts: Mapping[str, Any], reference_date: dt.date
    ) -> dict[str, Any]:
        seen.append(facts)
        return household_features(signals, facts, reference_date)

    scorer = FakeScorer()
    seed_version(engine, scorer.model_version, ModelStatus.CHAMPION)
    app = create_app(make_settings(database_url), scorer=scorer, feature_builder=recording_builder, clock=clock)
    with TestClient(app) as client:
        _score(client, _with_neighbourhood(household("hh_wijk_000000004", signal("s-1")), "WK034402"))
    assert seen and "neighbourhood" not in seen[0]


def test_list_names_the_partners_of_the_last_twelve_months(client):
    _score(
        client,
        household(
            "hh_partners_00001",
            signal("s-1", partner="rent", days_ago=10),
            signal("s-2", partner="water", days_ago=400, started_days_ago=450),
            signal("s-3", partner="health_insurance", days_ago=30),
        ),
    )
    assert _items(client)["hh_partners_00001"]["partners"] == ["rent", "health_insurance"]


def test_list_reports_the_weekly_capacity_and_the_decisions_since_monday(make_client, clock):
    client = make_client(weekly_capacity=12)
    results = _score(client, household("hh_week_000000001", signal("s-1")),
                     household("hh_week_000000002", signal("s-2")))
    decision = {"end_result": "advice_quick_fix", "chosen_intensity": results[0]["suggested_intensity"],
                "contact_attempts": [{"kind": "letter", "reached": True, "attempted_on": TODAY.isoformat(),
                                      "part_of_day": "morning"}]}
    response = client.post(f"/v1/review-items/{results[0]['review_item_id']}/decisions", json=decision,
                           headers=CASEWORKER)
    assert response.status_code == 201, response.text
    listing = client.get("/v1/outreach", headers=CASEWORKER).json()
    assert (listing["capacity_per_week"], listing["decided_this_week"]) == (12, 1)
    clock.advance(days=7)  # TODAY is a Wednesday: a week later the count starts again
    assert client.get("/v1/outreach", headers=CASEWORKER).json()["decided_this_week"] == 0


@pytest.mark.parametrize("with_english", [True, False])
def test_bundle_info_reads_the_english_card_when_the_bundle_has_one(tmp_path: Path, with_english: bool):
    (tmp_path / "card").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps({"model_version": "v-1", "model_name": "m"}))
    (tmp_path / "card" / "card.html").write_text("<html lang='nl'></html>")
    if with_english:
        (tmp_path / "card" / "card.en.html").write_text("<html lang='en'></html>")
    card = read_bundle_info(tmp_path).card
    assert card.html == "<html lang='nl'></html>"
    assert card.html_en == ("<html lang='en'></html>" if with_english else None)


def test_an_admins_list_of_every_team_adds_up_their_capacity(make_client):
    client = make_client(weekly_capacity=10)
    body = batch(household("hh_teams_00000001", signal("s-1"), team=TEAM),
                 household("hh_teams_00000002", signal("s-2"), team=OTHER_TEAM))
    assert client.post("/v1/scores", json=body, headers=auth(Role.ADMIN)).status_code == 200  # an admin files for both
    listing = client.get("/v1/outreach", headers=auth(Role.ADMIN)).json()
    assert (listing["team"], listing["capacity_per_week"]) == ("*", 20)
    assert client.get("/v1/outreach", headers=CASEWORKER).json()["capacity_per_week"] == 10
