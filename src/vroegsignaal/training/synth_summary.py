"""The summary of a synthetic municipality: its realised rates next to the Dutch figures they aim for.

Part of :mod:`vroegsignaal.training.synth`. The summary is flat (one value per key) so a CLI can print it as a
table and ``summary.json`` stays easy to read; the targets are those of DESIGN.md "Domain facts".
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from vroegsignaal.schemas.enums import PartnerType
from vroegsignaal.training.synth_world import (
    AGE_BANDS,
    BENEFIT_TYPES,
    HOUSEHOLD_TYPES,
    Households,
    state_level,
)

#: Inhabitants per household (CBS: about 2.1), to express signal volumes per 1,000 inhabitants.
INHABITANTS_PER_HOUSEHOLD = 2.1
#: A case with a signal this many months before it counts as a repeat case (the national monitor's window).
REPEAT_CASE_MONTHS = 6
#: Premium arrears of this many months mean the CAK has taken the premium over (wanbetalersregeling).
CAK_LEVEL = 6
#: The four partner types whose shares the national figures give; the others are optional partners.
MAIN_PARTNERS: tuple[str, ...] = (
    PartnerType.HEALTH_INSURANCE.value,
    PartnerType.RENT.value,
    PartnerType.ENERGY.value,
    PartnerType.WATER.value,
)
#: The Dutch figures of DESIGN.md the summary is compared with (documented in docs/synthetic-municipality.md).
TARGETS: dict[str, tuple[float, float]] = {
    "signals_per_1000_inhabitants_month": (3.5, 4.5),
    "partner_share_health_insurance": (0.41, 0.45),
    "partner_share_rent": (0.17, 0.23),
    "partner_share_energy": (0.20, 0.25),
    "partner_share_water": (0.15, 0.21),
    "single_signal_case_share": (0.45, 0.60),
    "case_with_earlier_signal_6m_share": (0.35, 0.45),
    "problematic_debt_share": (0.076, 0.083),
    "label_rate": (0.10, 0.25),
}


def summarize(
    world: Households,
    *,
    partner_code: np.ndarray,
    signal_household: np.ndarray,
    signal_month: np.ndarray,
    states: np.ndarray,
    in_debt: np.ndarray,
    label: np.ndarray,
    recorded: np.ndarray,
    true_risk: np.ndarray,
    label_month: np.ndarray,
    partner_types: tuple[str, ...],
    run: dict[str, Any],
) -> dict[str, Any]:
    """Realised rates of one simulation (``run`` holds the arguments it was made with, listed first)."""
    households, months = in_debt.shape
    partner = np.asarray(partner_types)[partner_code]
    main = np.isin(partner, MAIN_PARTNERS)
    per_household_month = len(partner) / (households * months)
    summary: dict[str, Any] = {
        **run,
        "signals": int(len(partner)),
        "signals_per_100_households_month": 100 * per_household_month,
        "signals_per_1000_inhabitants_month": 1000 * per_household_month / INHABITANTS_PER_HOUSEHOLD,
    }
    for name in MAIN_PARTNERS:
        summary[f"partner_share_{name}"] = _share(partner[main] == name)
    summary["optional_partner_share"] = _share(~main)
    summary.update(case_rates(signal_household, signal_month, households=households, months=months))
    summary["problematic_debt_share"] = float(in_debt.mean())
    for name, members in _groups(world).items():
        summary[f"problematic_debt_share_{name}"] = float(in_debt[members].mean()) if members.any() else None
    summary["cak_premium_arrears_share"] = float((state_level(states) >= CAK_LEVEL).mean())
    summary["label_rows"] = int(len(recorded))
    summary["reference_dates"] = int(len(np.unique(label_month)))
    summary["label_rate"] = _share(recorded)
    summary["true_label_rate"] = _share(label)
    summary["mean_true_risk"] = float(true_risk.mean()) if len(true_risk) else None
    both_classes = len(np.unique(recorded)) == 2
    summary["bayes_auc"] = float(roc_auc_score(recorded, true_risk)) if both_classes else None
    return {key: round(value, 6) if isinstance(value, float) else value for key, value in summary.items()}


def case_rates(
    household: np.ndarray, month: np.ndarray, *, households: int, months: int
) -> dict[str, float | None]:
    """A case is a household's signals in one month: how many consist of one signal, and how many follow an
    earlier signal of the same household within :data:`REPEAT_CASE_MONTHS` months."""
    case_key, per_case = np.unique(household.astype(np.int64) * months + month, return_counts=True)
    case_household, case_month = case_key // months, case_key % months
    signalled = np.zeros((households, months + 1), dtype=np.int32)
    signalled[case_household, case_month + 1] = 1
    cases_before = np.cumsum(signalled, axis=1)  # cases_before[h, m] = cases of h in months < m
    window_start = np.maximum(case_month - REPEAT_CASE_MONTHS, 0)
    earlier = cases_before[case_household, case_month] - cases_before[case_household, window_start]
    return {
        "single_signal_case_share": _share(per_case == 1),
        "case_with_earlier_signal_6m_share": _share(earlier > 0),
    }


def _groups(world: Households) -> dict[str, np.ndarray]:
    return {
        "single_parent": world.household_type == HOUSEHOLD_TYPES.index("single_parent"),
        "social_assistance": world.benefit_type == BENEFIT_TYPES.index("social_assistance"),
        "state_pension": world.benefit_type == BENEFIT_TYPES.index("state_pension"),
        **{f"age_{band}": world.age_band == code for code, band in enumerate(AGE_BANDS)},
    }


def _share(mask: np.ndarray) -> float | None:
    return float(np.mean(mask)) if len(mask) else None
