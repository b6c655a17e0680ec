"""Made-up data for the browser tests: a real model bundle trained by the pipeline on the shared made-up signal data
set (``tests.factories.write_signal_dataset``), and the households a caseworker team finds on its list. No personal
data: everything is made up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from tests.factories import MUNICIPALITY, NEIGHBOURHOODS, PARTNERS
from vroegsignaal.schemas.dataset_config import load_dataset_config


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
