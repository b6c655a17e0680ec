"""The dataset config of signal data: the synthetic municipality's and a decisions export's.

Both hold the data contract's tables (signals, household facts, the audit attributes, outcomes) and train the same
way: the catalogue's categorical and monotone features, the four audit attributes as sensitive, the rule-based order
as the baseline. They differ in where the data come from and how the label was made, which the model card repeats
from ``label_description``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from vroegsignaal.schemas.catalogue import CATEGORICAL_FEATURES, MONOTONE_DECREASING, MONOTONE_INCREASING
from vroegsignaal.schemas.dataset_config import parse_dataset_config
from vroegsignaal.schemas.tables import AuditSchema, OutcomeSchema

#: The file name of a written dataset config, beside its tables.
CONFIG_FILE = "dataset.yaml"
#: The proxy gate: the state pension reveals the 65+ band and household types follow age, so the features predict
#: the age band with a macro AUC of about 0.73-0.75 in the synthetic world; the gate flags every proxy stronger than
#: that natural one (the synthetic 'proxy' knob takes origin to about 0.85).
PROXY_AUC_GATE = 0.78
#: The way of working a model must beat: crisis first, then the most partners signalling, then the largest arrears.
BASELINE_RULE: tuple[dict[str, Any], ...] = (
    {"column": "crisis_signal_3m", "descending": True},
    {"column": "distinct_partners_12m", "descending": True},
    {"column": "total_arrears_eur", "descending": True},
)


def signal_dataset_config(
    *,
    name: str,
    description: str,
    label_description: str,
    data: Mapping[str, str],
    true_risk: str | None = None,
    extracted_on: dt.date | None = None,
    label_horizon_days: int | None = None,
) -> dict[str, Any]:
    """A validated dataset config (as written to ``dataset.yaml``) for the tables ``data`` names (relative to the
    config's folder), extracted on ``extracted_on`` (see ``DataSource.extracted_on``) with labels that look
    ``label_horizon_days`` after their reference date (default: the config's 365)."""
    raw: dict[str, Any] = {
        "name": name,
        "description": description,
        "data": {**data, **({"extracted_on": extracted_on.isoformat()} if extracted_on is not None else {})},
        "id": OutcomeSchema.household_id,
        "time": OutcomeSchema.reference_date,
        "label": OutcomeSchema.problematic_debt_12m,
        "positive": True,
        "label_description": label_description,
        "categorical": list(CATEGORICAL_FEATURES),
        "monotone_increasing": list(MONOTONE_INCREASING),
        "monotone_decreasing": list(MONOTONE_DECREASING),
        "sensitive": [
            {"column": AuditSchema.age_band},
            {"column": AuditSchema.gender},
            {"column": AuditSchema.origin},
            {"column": AuditSchema.neighbourhood},
        ],
        **({"true_risk": true_risk} if true_risk is not None else {}),
        "capacity": {"fraction": 0.1},
        "fairness": {"gates": {"proxy_auc_max": PROXY_AUC_GATE}},
        "baseline_rule": [dict(rule) for rule in BASELINE_RULE],
        **({"split": {"label_horizon_days": label_horizon_days}} if label_horizon_days is not None else {}),
    }
    parse_dataset_config(raw, source=CONFIG_FILE)  # a config we write must always load
    return raw
