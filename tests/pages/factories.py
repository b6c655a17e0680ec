"""Made-up data for the browser tests: a small signal data set with audit attributes, a real model bundle trained on
it by the pipeline, and the households a caseworker team finds on its list. No personal data: everything is made up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vroegsignaal.schemas.catalogue import MONOTONE_DECREASING, MONOTONE_INCREASING
from vroegsignaal.schemas.dataset_config import load_dataset_config

MUNICIPALITY = "GM0344"
PARTNERS = ("rent", "energy", "water", "health_insurance")
NEIGHBOURHOODS = ("WK034401", "WK034402", "WK034403")


def write_signal_dataset(folder: Path, *, households: int = 3000, seed: int = 1) -> Path:
    """Signal, household, audit and outcome tables whose label rises with the arrears; returns the config path."""
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
        "name": "pages-test",
        "data": {name: f"{name}.parquet" for name in ("signals", "households", "audit", "outcomes")},
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


def train_bundle(config_path: Path, out_dir: Path, *, trained_at: dt.datetime) -> Path:
    """A complete bundle (card in both languages, fairness audit) from the training pipeline, without MLflow."""
    from vroegsignaal.training.pipeline import run_pipeline

    return run_pipeline(load_dataset_config(config_path), out_dir, now=trained_at).bundle_dir


def signal(signal_id: str, *, partner: str, amount: float, days_ago: int, today: dt.date, months: int = 3,
           crisis: bool = False) -> dict[str, Any]:
    day = today - dt.timedelta(days=days_ago)
    return {
        "signal_id": signal_id, "partner_type": partner, "amount_eur": amount,
        "arrears_start_date": (day - dt.timedelta(days=30 * months)).isoformat(), "signal_date": day.isoformat(),
        "crisis": crisis, "warm_handover": False, "end_of_supply": False,
    }


def household(pseudonym: str, *signals: dict[str, Any], neighbourhood: str, household_type: str = "single",
              benefit_type: str = "none") -> dict[str, Any]:
    return {
        "household_id": pseudonym,
        "neighbourhood": neighbourhood,
        "facts": {"household_type": household_type, "benefit_type": benefit_type},
        "signals": list(signals),
    }


def team_households(today: dt.date, *, prefix: str, count: int) -> list[dict[str, Any]]:
    """``count`` households with a spread of arrears, partners and neighbourhoods, signals up to ``today``."""
    rng = np.random.default_rng(len(prefix) * 7 + count)
    result = []
    for i in range(count):
        signals = [
            signal(f"{prefix}-{i}-{j}", partner=str(rng.choice(PARTNERS)),
                   amount=round(float(rng.gamma(2.0, 700.0))),
                   days_ago=int(rng.integers(0, 200)) if j else int(rng.integers(0, 5)), today=today,
                   months=int(rng.integers(1, 6)), crisis=bool(i == 2 and j == 0))
            for j in range(int(rng.integers(1, 4)))
        ]
        result.append(household(
            f"hh_{prefix}_{i:09d}", *signals, neighbourhood=NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)],
            household_type=str(rng.choice(["single", "single_parent", "couple_with_children"])),
            benefit_type=str(rng.choice(["none", "social_assistance"])),
        ))
    return result


def score_request(households: list[dict[str, Any]], *, reference: dt.date) -> dict[str, Any]:
    return {"municipality_code": MUNICIPALITY, "reference_date": reference.isoformat(), "households": households}
