"""The service with the real model runtime: a bundle trained by the pipeline's steps on small signal tables, loaded
from the models directory, approved, promoted and scored through the real feature builder and scorer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import train_bare_bundle, write_signal_dataset
from tests.service.conftest import TestClient, auth, batch, household, make_settings, signal
from vroegsignaal.schemas.dataset_config import load_dataset_config
from vroegsignaal.schemas.enums import ContactIntensity, RiskBand, Role
from vroegsignaal.service.app import create_app
from vroegsignaal.service.middleware import DEMO_HEADER

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    config = load_dataset_config(write_signal_dataset(root / "data", households=600, name="service-test"))
    train_bare_bundle(config, root / "models" / "bundle-1")
    return root / "models"


def _client(database_url: str, models_dir: Path, clock, **overrides) -> TestClient:  # noqa: ANN001, ANN003
    settings = make_settings(database_url, models_dir=models_dir, **overrides)
    return TestClient(create_app(settings, clock=clock), raise_server_exceptions=False)


def test_bundle_is_a_candidate_until_approved_then_scores_for_real(engine, database_url, models_dir, clock):
    with _client(database_url, models_dir, clock) as client:
        assert client.get("/ready").status_code == 503
        versions = client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json()
        assert [v["status"] for v in versions] == ["candidate"]
        version = versions[0]["version"]
        body = batch(household("hh_real_000000001", signal("s-1", amount=2500.0), signal("s-2", partner="energy")))
        assert client.post("/v1/scores", json=body, headers=auth(Role.CASEWORKER)).status_code == 503
        client.post(f"/v1/models/{version}/approval", headers=auth(Role.ETHICS_REVIEWER),
                    json={"decision": "approve", "comment": "reviewed the small test card"})
        promoted = client.post(f"/v1/models/{version}/promote", json={}, headers=auth(Role.ADMIN))
        assert promoted.status_code == 200, promoted.text
        response = client.post("/v1/scores", json=body, headers=auth(Role.CASEWORKER))
        assert response.status_code == 200, response.text
        result = response.json()["results"][0]
        assert 0.0 <= result["score"] <= 1.0 and result["model_version"] == version
        assert result["risk_band"] in RiskBand.values()
        assert result["suggested_intensity"] in ContactIntensity.values()
        assert result["reasons"] and all(r["text_nl"] and r["text_en"] for r in result["reasons"])
        assert client.get("/ready").json()["model_version"] == version


def test_demo_mode_serves_the_candidate_and_flags_it(engine, database_url, models_dir, clock):
    with _client(database_url, models_dir, clock, demo_mode=True) as client:
        response = client.post("/v1/scores", json=batch(household("hh_real_000000002", signal("s-9"))),
                               headers=auth(Role.CASEWORKER))
        assert response.status_code == 200 and response.headers[DEMO_HEADER] == "unapproved-model"
