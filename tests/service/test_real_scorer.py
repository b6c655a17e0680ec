"""The service with the real model runtime: a bundle trained by the pipeline's steps on small signal tables, loaded
from the models directory, approved, promoted and scored through the real feature builder and scorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.factories import train_bare_bundle
from tests.service.conftest import TestClient, auth, batch, household, make_settings, signal
from vroegsignaal.schemas.catalogue import MONOTONE_DECREASING, MONOTONE_INCREASING
from vroegsignaal.schemas.dataset_config import DatasetConfig, load_dataset_config
from vroegsignaal.schemas.enums import ContactIntensity, RiskBand, Role
from vroegsignaal.service.app import create_app
from vroegsignaal.service.middleware import DEMO_HEADER

pytestmark = pytest.mark.slow

PARTNERS = ["rent", "energy", "water", "health_insurance"]


def write_signal_dataset(folder: Path, *, households: int = 600, seed: int = 1) -> DatasetConfig:
    """Made-up signal tables whose label rises with the arrears, and their dataset config."""
    rng = np.random.default_rng(seed)
    reference = pd.Timestamp("2026-01-01")
    ids = [f"hh_train_{i:08d}" for i in range(households)]
    rows = []
    for i, pseudonym in enumerate(ids):
        for j in range(int(rng.integers(1, 4))):
            day = reference - pd.Timedelta(days=int(rng.integers(1, 300)))
            rows.append({
                "household_id": pseudonym, "signal_id": f"sig-{i}-{j}", "municipality_code": "GM0344",
                "partner_type": str(rng.choice(PARTNERS)), "amount_eur": float(rng.gamma(2.0, 400.0)),
                "arrears_start_date": day - pd.Timedelta(days=40), "signal_date": day,
                "crisis": bool(rng.random() < 0.05), "warm_handover": False, "end_of_supply": False,
            })
    signals = pd.DataFrame(rows)
    facts = pd.DataFrame({
        "household_id": ids, "municipality_code": "GM0344",
        "household_type": rng.choice(["single", "couple", "single_parent"], households),
        "benefit_type": rng.choice(["none", "social_assistance"], households),
        "municipal_tax_arrears_eur": 0.0, "municipal_tax_remission": False, "prior_debt_assistance": False,
        "recent_move": False,
    })
    total = signals.groupby("household_id")["amount_eur"].sum().reindex(ids).to_numpy()
    label = rng.random(households) < 1 / (1 + np.exp(-(-3 + total / 800)))
    outcomes = pd.DataFrame({"household_id": ids, "reference_date": reference, "problematic_debt_12m": label})
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("signals", signals), ("households", facts), ("outcomes", outcomes)):
        frame.to_parquet(folder / f"{name}.parquet")
    config = {
        "name": "service-test",
        "data": {"signals": "signals.parquet", "households": "households.parquet", "outcomes": "outcomes.parquet"},
        "id": "household_id", "label": "problematic_debt_12m", "positive": True,
        "monotone_increasing": list(MONOTONE_INCREASING),
        "monotone_decreasing": list(MONOTONE_DECREASING),
        "capacity": {"fraction": 0.2},
        "fairness": {"min_group_size": 30, "min_group_positives": 10, "bootstrap_samples": 20},
        "model": {"n_estimators": 60, "num_leaves": 8, "learning_rate": 0.1, "min_child_samples": 20},
        "seed": 3,
    }
    (folder / "dataset.yaml").write_text(yaml.safe_dump(config))
    return load_dataset_config(folder / "dataset.yaml")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    train_bare_bundle(write_signal_dataset(root / "data"), root / "models" / "bundle-1")
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
