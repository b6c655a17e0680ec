"""The service with the real model runtime: a bundle trained by the pipeline's steps on small signal tables, loaded
from the models directory, approved, promoted and scored through the real feature builder and scorer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.factories import flat_frame, train_bare_bundle, write_flat_dataset, write_signal_dataset
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


@pytest.fixture(scope="module")
def foreign_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of a data set of its own (a flat table with features the catalogue does not know)."""
    root = tmp_path_factory.mktemp("foreign")
    train_bare_bundle(write_flat_dataset(root / "data", flat_frame(600)), root / "models" / "flat-1")
    return root / "models"


def test_a_model_of_another_data_set_is_never_served(engine, database_url, foreign_models_dir, clock):
    with _client(database_url, foreign_models_dir, clock) as client:
        version = client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json()[0]["version"]
        client.post(f"/v1/models/{version}/approval", headers=auth(Role.ETHICS_REVIEWER),
                    json={"decision": "approve", "comment": "reviewed the small test card"})
        promoted = client.post(f"/v1/models/{version}/promote", json={}, headers=auth(Role.ADMIN))
        assert promoted.status_code == 409 and "cannot build from signals" in promoted.json()["detail"]
        assert "arrears_eur" in promoted.json()["detail"]  # names the features
        assert client.get("/ready").json()["model_version"] is None


def test_a_broken_bundle_folder_does_not_keep_the_others_out(engine, database_url, models_dir, clock, tmp_path):
    mixed = tmp_path / "models"
    shutil.copytree(models_dir, mixed)
    (mixed / "broken-manifest").mkdir()
    (mixed / "broken-manifest" / "manifest.json").write_text("{not json", encoding="utf-8")
    shutil.copytree(models_dir / "bundle-1", mixed / "broken-card")
    (mixed / "broken-card" / "card").mkdir(exist_ok=True)
    (mixed / "broken-card" / "card" / "card.json").write_text("{not json", encoding="utf-8")
    with _client(database_url, mixed, clock) as client:
        versions = client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json()
        assert len(versions) == 1  # the good bundle; the two broken folders are skipped with a warning
        assert client.post("/v1/models/discover", headers=auth(Role.ADMIN)).status_code == 200


def test_a_version_discovered_on_request_is_registered_by_who_asked(engine, database_url, models_dir, clock,
                                                                    tmp_path):
    own = tmp_path / "models"
    own.mkdir()
    with _client(database_url, own, clock) as client:
        shutil.copytree(models_dir / "bundle-1", own / "bundle-1")  # trained while the service runs
        found = client.post("/v1/models/discover", headers=auth(Role.DATA_SCIENTIST))
        assert found.status_code == 200 and len(found.json()) == 1
        (registered,) = client.get(f"/v1/models/{found.json()[0]}", headers=auth(Role.ADMIN)).json()["events"]
        assert (registered["actor"], registered["role"]) == ("user-data_scientist", "data_scientist")


def test_a_champion_whose_files_are_gone_starts_the_service_without_a_model(engine, database_url, models_dir, clock,
                                                                            tmp_path):
    own = tmp_path / "models"
    shutil.copytree(models_dir, own)
    with _client(database_url, own, clock) as client:
        version = client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json()[0]["version"]
        client.post(f"/v1/models/{version}/approval", headers=auth(Role.ETHICS_REVIEWER),
                    json={"decision": "approve", "comment": "reviewed the small test card"})
        assert client.post(f"/v1/models/{version}/promote", json={}, headers=auth(Role.ADMIN)).status_code == 200
    moved = tmp_path / "elsewhere"
    (own / "bundle-1").rename(moved)
    with _client(database_url, own, clock) as client:  # a restart while the champion's files are missing
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 503
        body = batch(household("hh_real_000000003", signal("s-1")))
        assert client.post("/v1/scores", json=body, headers=auth(Role.CASEWORKER)).status_code == 503
        assert client.post("/v1/admin/reload", headers=auth(Role.ADMIN)).status_code == 409  # still missing
        moved.rename(own / "bundle-1")
        assert client.post("/v1/admin/reload", headers=auth(Role.ADMIN)).status_code == 200
        assert client.post("/v1/scores", json=body, headers=auth(Role.CASEWORKER)).status_code == 200


def _promote_the_only_version(client: TestClient) -> str:
    version = client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json()[0]["version"]
    client.post(f"/v1/models/{version}/approval", headers=auth(Role.ETHICS_REVIEWER),
                json={"decision": "approve", "comment": "reviewed the small test card"})
    assert client.post(f"/v1/models/{version}/promote", json={}, headers=auth(Role.ADMIN)).status_code == 200
    return version


def test_a_champions_folder_overwritten_by_another_model_is_never_served_under_its_name(
    engine, database_url, models_dir, clock, tmp_path
):
    own = tmp_path / "models"
    shutil.copytree(models_dir, own)
    with _client(database_url, own, clock) as client:
        version = _promote_the_only_version(client)
    # 'train --overwrite' into the champion's folder: a new, unreviewed model under the approved version's path.
    other = load_dataset_config(write_signal_dataset(tmp_path / "data", households=600, seed=2, name="service-test"))
    shutil.rmtree(own / "bundle-1")
    train_bare_bundle(other, own / "bundle-1")
    with _client(database_url, own, clock) as client:
        assert client.get("/ready").json()["model_version"] is None  # nothing served at start
        reload = client.post("/v1/admin/reload", headers=auth(Role.ADMIN))
        assert reload.status_code == 409 and f"model version {version} cannot be served" in reload.json()["detail"]
        body = batch(household("hh_real_000000004", signal("s-1")))
        assert client.post("/v1/scores", json=body, headers=auth(Role.CASEWORKER)).status_code == 503


def test_the_champion_is_found_again_when_the_models_folder_moves(engine, database_url, models_dir, clock, tmp_path):
    own = tmp_path / "models"
    shutil.copytree(models_dir, own)
    with _client(database_url, own, clock) as client:
        version = _promote_the_only_version(client)
    moved = tmp_path / "mounted" / "models"
    moved.parent.mkdir()
    own.rename(moved)
    with _client(database_url, moved, clock) as client:
        assert client.get("/ready").json()["model_version"] == version


@pytest.mark.filterwarnings(
    # Third-party warnings raised inside MLflow while it creates its store (see tests/test_tracking.py).
    "ignore:.*Any type hint is inferred as AnyType:UserWarning",
    "ignore:The ``noload`` loader strategy is deprecated",
)
def test_a_registry_without_the_champion_alias_does_not_stop_the_start(engine, database_url, models_dir, clock,
                                                                        tmp_path):
    settings = {"model_uri": "models:/vroegsignaal-nothing-yet@champion",
                "mlflow_tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    with _client(database_url, models_dir, clock, **settings) as client:  # a fresh install: nothing promoted yet
        assert client.get("/health").status_code == 200 and client.get("/ready").status_code == 503
        assert [v["status"] for v in client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json()] == [
            "candidate"
        ]


@pytest.mark.filterwarnings(
    "ignore:.*Any type hint is inferred as AnyType:UserWarning",
    "ignore:The ``noload`` loader strategy is deprecated",
)
def test_a_registry_that_does_not_answer_stops_neither_the_start_nor_a_reload(engine, database_url, models_dir, clock,
                                                                             tmp_path, monkeypatch):
    # MLflow's connection failure escaped as MlflowException: the service did not start, though it had a bundle to
    # serve, and a reload or discovery answered 500.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # MLflow's default retries for minutes
    silent = {"model_uri": "models:/vroegsignaal-service-test@champion", "mlflow_tracking_uri": "http://127.0.0.1:9",
              "model_cache_dir": tmp_path / "cache"}
    with _client(database_url, models_dir, clock, **silent) as client:
        assert client.get("/health").status_code == 200
        assert [v["status"] for v in client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json()] == [
            "candidate"
        ]
        # The registry's versions are left out, as at the start (logged): what the service has is what it has.
        reloaded = client.post("/v1/admin/reload", headers=auth(Role.ADMIN))
        assert reloaded.status_code == 409 and "no champion to serve" in reloaded.json()["detail"]
        discovered = client.post("/v1/models/discover", headers=auth(Role.ADMIN))
        assert discovered.status_code == 200 and discovered.json() == []


@pytest.mark.filterwarnings(
    "ignore:.*Any type hint is inferred as AnyType:UserWarning",
    "ignore:The ``noload`` loader strategy is deprecated",
    "ignore:Operation with range is deprecated",
)
def test_a_fresh_registry_install_finds_the_version_training_registered(engine, database_url, models_dir, clock,
                                                                         tmp_path):
    from tests.model_cards.factories import make_card
    from vroegsignaal import tracking
    from vroegsignaal.model_cards import render_card

    uri = tracking.default_tracking_uri(tmp_path / "mlflow", environ={})
    card = render_card(make_card(none_metrics=True, mitigation=False), tmp_path / "card", langs=("en",))
    settings = {"model_uri": "models:/vroegsignaal-service-test@champion", "mlflow_tracking_uri": uri}
    with _client(database_url, tmp_path / "no-bundles-here", clock, **settings) as client:  # nothing registered yet
        assert client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json() == []
        tracking.log_training_run(
            tracking_uri=uri, experiment="service-test", run_name="service-test-v1", params={}, metrics={},
            bundle_dir=models_dir / "bundle-1", card_dir=card.directory,
            input_example=pd.read_parquet(models_dir / "bundle-1" / "input_example.parquet"),
            registered_model_name="vroegsignaal-service-test", tags={},
        )
        found = client.post("/v1/models/discover", headers=auth(Role.ADMIN))
        assert found.status_code == 200 and len(found.json()) == 1
        versions = client.get("/v1/models", headers=auth(Role.ETHICS_REVIEWER)).json()
        assert [(v["version"], v["status"]) for v in versions] == [(found.json()[0], "candidate")]
