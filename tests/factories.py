"""Small, explicit test data shared by the test packages (no personal data: everything is made up)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vroegsignaal.schemas.catalogue import MONOTONE_DECREASING, MONOTONE_INCREASING
from vroegsignaal.schemas.dataset_config import DatasetConfig, load_dataset_config

FIXED_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MUNICIPALITY = "GM0344"
PARTNERS = ("rent", "energy", "water", "health_insurance")
NEIGHBOURHOODS = ("WK034401", "WK034402", "WK034403")


def flat_frame(rows: int = 2_000, *, seed: int = 0, with_time: bool = False) -> pd.DataFrame:
    """A flat table with a known signal: risk rises with arrears and months, region matters a little.

    ``gender`` is an audit attribute unrelated to the label; ``age`` is continuous (banded in the config).
    """
    rng = np.random.default_rng(seed)
    arrears = rng.gamma(2.0, 400.0, rows)
    months = rng.integers(0, 24, rows).astype(float)
    region = rng.choice(["north", "south", "east"], rows)
    income = rng.normal(2_000, 500, rows)
    logit = -3.0 + arrears / 600 + months / 12 + (region == "north") * 0.5 - (income - 2_000) / 1_000
    label = rng.random(rows) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "case_id": [f"case{i:06d}" for i in range(rows)],
            "arrears_eur": arrears.round(2),
            "months_in_arrears": months,
            "region": region,
            "income_eur": income.round(2),
            "gender": rng.choice(["female", "male"], rows),
            "age": rng.integers(18, 90, rows),
            "at_risk": np.where(label, "yes", "no"),
        }
    )
    if with_time:
        frame["period"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 6, rows) * 31, unit="D")
        frame["period"] = frame["period"].dt.to_period("M").dt.to_timestamp()
    return frame


def flat_config_dict(data_file: str = "data.csv", **overrides: Any) -> dict[str, Any]:
    config = {
        "name": "flat-test",
        "data": {"path": data_file},
        "id": "case_id",
        "label": "at_risk",
        "positive": "yes",
        "categorical": ["region"],
        "monotone_increasing": ["arrears_eur", "months_in_arrears"],
        "sensitive": [
            {"column": "gender"},
            {"column": "age", "name": "age_band", "bins": [18, 35, 65, 120], "labels": ["18-34", "35-64", "65+"]},
        ],
        "capacity": {"fraction": 0.2},
        "baseline_rule": [{"column": "arrears_eur"}],
        "fairness": {"min_group_size": 30, "min_group_positives": 10, "bootstrap_samples": 50},
        "model": {"n_estimators": 200, "num_leaves": 8, "learning_rate": 0.1, "min_child_samples": 20},
        "seed": 3,
    }
    config.update(overrides)
    return config


def write_flat_dataset(
    folder: Path, frame: pd.DataFrame | None = None, *, suffix: str = ".csv", **overrides: Any
) -> DatasetConfig:
    """Write a flat table and its dataset config to ``folder``; return the loaded config."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = flat_frame() if frame is None else frame
    data_file = f"data{suffix}"
    if suffix == ".csv":
        frame.to_csv(folder / data_file, index=False)
    else:
        frame.to_parquet(folder / data_file, index=False)
    (folder / "dataset.yaml").write_text(yaml.safe_dump(flat_config_dict(data_file, **overrides)), encoding="utf-8")
    return load_dataset_config(folder / "dataset.yaml")


def train_bare_bundle(config: DatasetConfig, out_dir: Path) -> Path:
    """A real bundle from the pipeline's steps, without card, fairness audit or MLflow (fast, for scoring tests)."""
    from vroegsignaal.scoring.bundle import make_model_version, write_bundle
    from vroegsignaal.training.data import load_dataset
    from vroegsignaal.training.fit import calibrate, choose_bands, fit_model
    from vroegsignaal.training.split import split_dataset

    dataset = load_dataset(config)
    split = split_dataset(dataset, config.split, seed=config.seed)
    fitted = fit_model(dataset, split, config)
    calibration_rows = dataset.frame.iloc[split.calibration]
    calibration = calibrate(
        fitted.margin(calibration_rows), dataset.y[split.calibration], method="sigmoid", seed=config.seed
    )
    bands = choose_bands(calibration.apply(fitted.margin(calibration_rows)), config, rows_per_period=dataset.rows)
    version = make_model_version(config.name, FIXED_NOW, [b.model_to_string() for b in fitted.ensemble.boosters])
    return write_bundle(
        out_dir,
        model_version=version,
        created_at=FIXED_NOW,
        ensemble=fitted.ensemble,
        preprocessor=fitted.preprocessor,
        calibration=calibration,
        bands=bands,
        config=config,
        metrics={},
        fairness={},
        input_example=dataset.frame.head(5),
    )



def write_signal_dataset(
    folder: Path, *, households: int = 3000, seed: int = 1, name: str = "signal-test"
) -> Path:
    """Signal, household, audit and outcome tables whose label rises with the arrears, and their dataset config;
    returns the config's path. Everything is made up."""
    rng = np.random.default_rng(seed)
    reference = pd.Timestamp("2026-01-01")
    ids = [f"hh_train_{i:08d}" for i in range(households)]
    rows = []
    for i, pseudonym in enumerate(ids):
        for j in range(int(rng.integers(1, 4))):
            day = reference - pd.Timedelta(days=int(rng.integers(1, 300)))
            rows.append({
                "household_id": pseudonym, "signal_id": f"sig-{i}-{j}", "municipality_code": MUNICIPALITY,
                "partner_type": str(rng.choice(PARTNERS)), "amount_eur": float(rng.gamma(2.0, 400.0)),
                "arrears_start_date": day - pd.Timedelta(days=int(rng.integers(30, 120))), "signal_date": day,
                "crisis": bool(rng.random() < 0.05), "warm_handover": False, "end_of_supply": False,
            })
    signals = pd.DataFrame(rows)
    facts = pd.DataFrame({
        "household_id": ids, "municipality_code": MUNICIPALITY,
        "household_type": rng.choice(["single", "couple", "single_parent"], households),
        "benefit_type": rng.choice(["none", "social_assistance"], households),
        "municipal_tax_arrears_eur": 0.0, "municipal_tax_remission": False, "prior_debt_assistance": False,
        "recent_move": False,
    })
    audit = pd.DataFrame({
        "household_id": ids, "municipality_code": MUNICIPALITY,
        "age_band": rng.choice(["25-34", "35-44", "45-54"], households),
        "gender": rng.choice(["female", "male"], households),
        "origin": rng.choice(["dutch", "europe", "outside_europe"], households, p=[0.6, 0.15, 0.25]),
        "neighbourhood": rng.choice(NEIGHBOURHOODS, households),
    })
    total = signals.groupby("household_id")["amount_eur"].sum().reindex(ids).to_numpy()
    label = rng.random(households) < 1 / (1 + np.exp(-(-3 + total / 800)))
    outcomes = pd.DataFrame({"household_id": ids, "reference_date": reference, "problematic_debt_12m": label})
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("signals", signals), ("households", facts), ("audit", audit), ("outcomes", outcomes)):
        frame.to_parquet(folder / f"{name}.parquet")
    config = {
        "name": name,
        # Made-up labels of 2026-01-01 whose 12 months are over: the data end when their windows do.
        "data": {**{name: f"{name}.parquet" for name in ("signals", "households", "audit", "outcomes")},
                 "extracted_on": "2027-01-01"},
        "id": "household_id", "label": "problematic_debt_12m", "positive": True,
        "monotone_increasing": list(MONOTONE_INCREASING),
        "monotone_decreasing": list(MONOTONE_DECREASING),
        "sensitive": [{"column": column} for column in ("age_band", "gender", "origin", "neighbourhood")],
        "capacity": {"fraction": 0.2},
        "baseline_rule": [{"column": "crisis_signal_3m"}, {"column": "distinct_partners_12m"},
                          {"column": "total_arrears_eur"}],
        # Gates for a small test set: wide enough that sampling noise alone does not fail them.
        "fairness": {"min_group_size": 60, "min_group_positives": 15, "bootstrap_samples": 20,
                     "gates": {"recall_ratio_min": 0.7, "calibration_error_max": 0.15, "proxy_auc_max": 0.75}},
        "model": {"n_estimators": 60, "num_leaves": 8, "learning_rate": 0.1, "min_child_samples": 20,
                  "num_threads": 1},
        "seed": seed,
    }
    path = folder / "dataset.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
