"""The demo: a synthetic municipality → a trained, audited model with its card → the service with a filled list.

Everything runs on the embedded defaults (SQLite, a local MLflow store, files under ``var/``) and needs no network.
The synthetic households with a recent signal are sent to the running service through its own API (``POST
/v1/scores``), with their dates moved so that the latest signals are from this week: the outreach list then shows
realistic deadlines, some of them overdue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vroegsignaal.schemas.dataset_config import load_dataset_config

DEMO_MUNICIPALITY = "GM0344"
DEMO_TEAMS = ("team-noord", "team-zuid")
#: Households with a signal in this many days before the reference date are sent to the service.
RECENT_DAYS = 84
#: History sent with each household (the service keeps it for later features).
HISTORY_DAYS = 365
BATCH_SIZE = 200

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo keeps its files."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "demo" / "data"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def mlflow(self) -> Path:
        return self.root / "mlflow"

    @property
    def database(self) -> Path:
        return self.root / "demo" / "service.db"


def team_of(household_id: str) -> str:
    """A stable team per household, so both demo teams have work."""
    return DEMO_TEAMS[int(hashlib.sha256(household_id.encode()).hexdigest(), 16) % len(DEMO_TEAMS)]


def prepare_model(paths: DemoPaths, *, households: int, seed: int, progress: Progress) -> Path:
    """Synthesise, train (tracked in the local MLflow store) and return the new bundle's folder."""
    from vroegsignaal import tracking
    from vroegsignaal.training.pipeline import run_pipeline
    from vroegsignaal.training.synth import generate_municipality, write_municipality

    progress(f"synthetic municipality of {households:,} households")
    write_municipality(
        generate_municipality(households=households, seed=seed, municipalities=(DEMO_MUNICIPALITY,)), paths.data
    )
    config = load_dataset_config(paths.data / "dataset.yaml")
    staging = paths.models / ".demo-training"
    shutil.rmtree(staging, ignore_errors=True)
    result = run_pipeline(
        config,
        staging,
        tracking_uri=tracking.default_tracking_uri(paths.mlflow),
        progress=lambda step: progress(f"training: {step}"),
    )
    bundle = paths.models / result.model_version
    shutil.rmtree(bundle, ignore_errors=True)
    staging.rename(bundle)
    return bundle


def score_requests(data: Path, *, today: dt.date) -> Iterator[dict[str, Any]]:
    """``POST /v1/scores`` bodies for the households with a recent signal, dates moved so the latest is ``today``."""
    signals = pd.read_parquet(data / "signals.parquet")
    households = pd.read_parquet(data / "households.parquet").set_index("household_id")
    # The neighbourhood routes work to a wijkteam and feeds the list's filter; it never reaches the model.
    neighbourhoods = pd.read_parquet(data / "audit.parquet", columns=["household_id", "neighbourhood"]).set_index(
        "household_id"
    )["neighbourhood"]
    outcomes = pd.read_parquet(data / "outcomes.parquet", columns=["reference_date"])
    reference = pd.Timestamp(outcomes["reference_date"].max())
    shift = pd.Timestamp(today) - reference
    past = signals[signals["signal_date"] <= reference]
    recent = past.loc[past["signal_date"] > reference - pd.Timedelta(days=RECENT_DAYS), "household_id"].unique()
    history = past[
        past["household_id"].isin(recent) & (past["signal_date"] > reference - pd.Timedelta(days=HISTORY_DAYS))
    ].sort_values(["household_id", "signal_date"])
    batch: list[dict[str, Any]] = []
    for household_id, rows in history.groupby("household_id", sort=True):
        batch.append(
            {
                "household_id": household_id,
                "team": team_of(household_id),
                "neighbourhood": str(neighbourhoods.get(household_id, "")) or None,
                "facts": facts_body(households.loc[household_id]),
                "signals": signal_bodies(rows, shift=shift),
            }
        )
        if len(batch) == BATCH_SIZE:
            yield _request(batch, today)
            batch = []
    if batch:
        yield _request(batch, today)


def facts_body(row: pd.Series) -> dict[str, Any]:
    """A household-facts row of the synthetic tables as the API's ``facts`` object."""
    return {
        "household_type": row["household_type"],
        "benefit_type": row["benefit_type"],
        "municipal_tax_arrears_eur": float(row["municipal_tax_arrears_eur"]),
        "municipal_tax_remission": bool(row["municipal_tax_remission"]),
        "prior_debt_assistance": bool(row["prior_debt_assistance"]),
        "recent_move": bool(row["recent_move"]),
    }


def signal_bodies(rows: pd.DataFrame, *, shift: pd.Timedelta, id_prefix: str | None = None) -> list[dict[str, Any]]:
    """Signal rows of the synthetic tables as the API's ``signals``, dates moved by ``shift``; with ``id_prefix`` the
    signal ids are made new (``<prefix>_<n>``) so the same history can be sent again as another household."""
    return [
        {
            "signal_id": f"{id_prefix}_{k}" if id_prefix else str(row.signal_id),
            "partner_type": row.partner_type,
            "amount_eur": float(row.amount_eur),
            "arrears_start_date": (row.arrears_start_date + shift).date().isoformat(),
            "signal_date": (row.signal_date + shift).date().isoformat(),
            "crisis": bool(row.crisis),
            "warm_handover": bool(row.warm_handover),
            "end_of_supply": bool(row.end_of_supply),
        }
        for k, row in enumerate(rows.itertuples(index=False))
    ]


def _request(households: list[dict[str, Any]], today: dt.date) -> dict[str, Any]:
    return {"municipality_code": DEMO_MUNICIPALITY, "reference_date": today.isoformat(), "households": households}


def seed_service(post: Callable[[dict[str, Any]], Any], data: Path, *, today: dt.date) -> int:
    """Send the demo households to the service with ``post(body)``; return how many were scored."""
    sent = 0
    for number, body in enumerate(score_requests(data, today=today)):
        response = post(body)
        if response.status_code != 200:
            raise RuntimeError(f"seeding batch {number} failed: HTTP {response.status_code} {response.text[:300]}")
        sent += len(body["households"])
    return sent
