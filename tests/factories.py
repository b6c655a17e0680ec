"""Small, explicit test data shared by the test packages (no personal data: everything is made up)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vroegsignaal.schemas.dataset_config import DatasetConfig, load_dataset_config

FIXED_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


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
