"""The synthetic municipality: realistic signal data with a known truth, because real signal data never leaves a
municipality.

:func:`generate_municipality` simulates households month by month and returns every table of the data contract
(signals, household facts, audit attributes, outcomes) plus the *true* risk behind each label;
:func:`write_municipality` writes them with a ready dataset config. ``docs/synthetic-municipality.md`` explains the
model of the world, its parameters, the sources of its target rates and its limits. In short:

- **Households** get static traits: household type, benefit, municipal-tax facts, prior debt assistance and a recent
  move (the facts a municipality holds and the model may use), and age band, gender, origin and neighbourhood (audit
  attributes only). Audit attributes shape the facts only where that is natural (65+ → state pension).
- **Stress.** Each month a household without arrears may be hit by a shock (job loss, separation, illness) at a rate
  set by its facts. A shock starts a *setback* (bills slip in the household's order of priority and the arrears are
  usually resolved) or, less often, a *spiral* (every bill goes unpaid and arrears deepen month after month).
- **Signals** follow the Wgs rules (:mod:`~vroegsignaal.training.synth_partners`). Households in problematic debt
  keep receiving signals.
- **Problematic debt** is entered with a monthly hazard that rises steeply with the depth of the arrears, and left
  after about four years.
- **Labels**: for each month-end reference date after 12 months of history and with 12 months of future left, every
  household that received a signal in that month and is not already in problematic debt gets a row; the label says
  whether it entered problematic debt in the 12 months after the reference date.
- **True risk** is the exact probability of that label given the household's state on the reference date (the
  stress chain is small, so it is computed by matrix powers, not sampled): the AUC of ``true_risk`` on the labels is
  the Bayes limit no model can beat.

Bias knobs (``bias=``), off by default, plant a known unfairness so tests can prove the fairness audit finds it:

``"under_recording"``
    A positive label of a household with origin ``outside_europe`` is recorded as negative with probability
    :data:`UNDER_RECORDING_PROBABILITY` (0.6): registration depends on who was reached. ``true_risk`` stays the
    truth. So that a model *can* learn the bias, this knob also makes recent moves more common among these households
    (a mild proxy, :data:`~vroegsignaal.training.synth_world.draw_households`).
``"proxy"``
    Remission of municipal taxes, social assistance and recent moves (all model features) depend strongly on origin,
    so the features become a proxy for origin ``outside_europe``. These facts also raise the households' rates of
    shocks, so their true risk follows.

Household pseudonyms are HMAC-SHA256 (hex) of a synthetic 9-digit number under a synthetic key derived from the
seed. The numbers are drawn so that they *fail* the BSN eleven-test (they can never be anyone's BSN) and are never
stored. The same seed and arguments always give the same tables and the same files.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import roc_auc_score

from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.catalogue import CATEGORICAL_FEATURES, MONOTONE_DECREASING, MONOTONE_INCREASING
from vroegsignaal.schemas.dataset_config import parse_dataset_config
from vroegsignaal.schemas.enums import PartnerType
from vroegsignaal.schemas.tables import (
    MUNICIPALITY_PATTERN,
    AuditSchema,
    HouseholdSchema,
    OutcomeSchema,
    SignalSchema,
    TrueRiskSchema,
)
from vroegsignaal.training.synth_partners import (
    PARTNER_TYPES_BY_CODE,
    PartnerBook,
    PartnerState,
    SignalEvents,
    draw_partner_book,
    signal_amounts,
    signal_calendar,
    step_partners,
    warm_handover_flags,
)
from vroegsignaal.training.synth_world import (
    AGE_BANDS,
    BENEFIT_TYPES,
    GENDERS,
    HOUSEHOLD_TYPES,
    LABEL_HORIZON_MONTHS,
    N_STATES,
    ORIGINS,
    Households,
    WorldParameters,
    draw_households,
    risk_table,
    state_is_spiral,
    state_level,
    stationary_distribution,
    transition_matrices,
)

BIAS_KNOBS: tuple[str, ...] = ("under_recording", "proxy")
UNDER_RECORDING_ORIGIN = "outside_europe"
UNDER_RECORDING_PROBABILITY = 0.6
#: Months of signal history before the first reference date (the features look back 12 months).
HISTORY_MONTHS = 12
MIN_MONTHS = HISTORY_MONTHS + LABEL_HORIZON_MONTHS
#: Inhabitants per household (CBS: about 2.1), to express signal volumes per 1,000 inhabitants.
INHABITANTS_PER_HOUSEHOLD = 2.1
#: Cases that had a signal this many months before count as repeat cases (the national monitor's window).
REPEAT_CASE_MONTHS = 6
MAIN_PARTNERS: tuple[str, ...] = (
    PartnerType.HEALTH_INSURANCE.value,
    PartnerType.RENT.value,
    PartnerType.ENERGY.value,
    PartnerType.WATER.value,
)
TABLE_FILES: dict[str, str] = {
    "signals": "signals.parquet",
    "households": "households.parquet",
    "audit": "audit.parquet",
    "outcomes": "outcomes.parquet",
    "true_risk": "true_risk.parquet",
}
SUMMARY_FILE = "summary.json"
#: The proxy gate of the written dataset config (see :func:`dataset_config`).
PROXY_AUC_GATE = 0.78
CONFIG_FILE = "dataset.yaml"
DATASET_NAME = "synthetic-municipality"

MSG_TOO_FEW_HOUSEHOLDS = "households must be at least 1"
MSG_TOO_FEW_MONTHS = f"months must be at least {MIN_MONTHS} (12 of history up to a reference date, 12 of future)"
MSG_UNKNOWN_BIAS = f"unknown bias knob; choose from {', '.join(BIAS_KNOBS)}"
MSG_BAD_MUNICIPALITY = "municipality codes must look like GM0344 (CBS gemeentecode)"
MSG_NO_MUNICIPALITY = "at least one municipality code is needed"
MSG_START_NOT_FIRST = "start must be the first day of a month"

_RNG_STREAMS = ("households", "partners", "initial", "months", "calendar", "labels", "pseudonyms")


@dataclass(frozen=True)
class SyntheticMunicipality:
    """The generated tables (each valid against its schema in :mod:`vroegsignaal.schemas.tables`) and a summary
    of the realised rates next to the Dutch figures they aim for."""

    signals: pd.DataFrame
    households: pd.DataFrame
    audit: pd.DataFrame
    outcomes: pd.DataFrame
    true_risk: pd.DataFrame
    summary: Mapping[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by their name in the data contract."""
        return {name: getattr(self, name) for name in TABLE_FILES}


def generate_municipality(
    *,
    households: int,
    seed: int,
    months: int = 36,
    municipalities: Sequence[str] = ("GM0344",),
    bias: Sequence[str] = (),
    start: date = date(2024, 1, 1),
    parameters: WorldParameters | None = None,
) -> SyntheticMunicipality:
    """Simulate a municipality of ``households`` households over ``months`` months from ``start``.

    Parameters
    ----------
    households
        Number of households (spread evenly over ``municipalities``).
    seed
        Random seed: the same seed and arguments give identical tables.
    months
        Months to simulate, at least :data:`MIN_MONTHS`; the reference dates are the ends of months 11 to
        ``months - 13`` (0-based), so with 36 months there are 13.
    municipalities
        CBS municipality codes (``GM`` and four digits).
    bias
        Bias knobs to plant, from :data:`BIAS_KNOBS` (see the module documentation).
    start
        First day of the first simulated month.
    parameters
        The world's rates; the defaults are tuned to the Dutch figures (see ``docs/synthetic-municipality.md``).

    Raises
    ------
    ConfigError
        For a non-positive number of households, too few months, an unknown bias knob, a malformed municipality
        code or a start date that is not the first of a month.
    """
    _check_arguments(households=households, months=months, municipalities=municipalities, bias=bias, start=start)
    parameters = parameters or WorldParameters()
    streams = dict(zip(_RNG_STREAMS, np.random.SeedSequence(seed).spawn(len(_RNG_STREAMS)), strict=True))
    rng = {name: np.random.default_rng(stream) for name, stream in streams.items()}
    world = draw_households(
        households,
        rng["households"],
        n_municipalities=len(municipalities),
        proxy="proxy" in bias,
        move_proxy="under_recording" in bias,
    )
    book = draw_partner_book(world, rng["partners"])
    simulation = _simulate(world, book, parameters, months=months, rng_initial=rng["initial"], rng_months=rng["months"])
    first_day = np.datetime64(start, "D")
    signal_date, arrears_start = signal_calendar(simulation.events, book, start=first_day, rng=rng["calendar"])
    signal_month = _month_index(signal_date, first_day)
    inside = signal_month < months  # a signal for the last month can fall after the simulated period
    events = _select(simulation.events, inside)
    signal_date, arrears_start, signal_month = signal_date[inside], arrears_start[inside], signal_month[inside]

    ids = _pseudonyms(households, seed=seed, rng=rng["pseudonyms"])
    codes = np.asarray(municipalities)[world.municipality]
    labels = _label_rows(world, simulation, events.household, signal_month, parameters, months=months)
    recorded = _record_labels(labels, world, bias, rng["labels"])
    reference_dates = _month_ends(first_day, labels.month)

    signals = _signal_table(events, book, ids, codes, signal_date, arrears_start, rng["calendar"])
    outcomes = pd.DataFrame(
        {
            OutcomeSchema.household_id: pd.array(ids[labels.household], dtype="str"),
            OutcomeSchema.reference_date: reference_dates,
            OutcomeSchema.problematic_debt_12m: recorded,
        }
    )
    true_risk = pd.DataFrame(
        {
            TrueRiskSchema.household_id: pd.array(ids[labels.household], dtype="str"),
            TrueRiskSchema.reference_date: reference_dates,
            TrueRiskSchema.true_risk: labels.true_risk,
        }
    )
    summary = _summarize(
        world,
        simulation,
        events,
        signal_month,
        labels,
        recorded,
        households=households,
        months=months,
        seed=seed,
        municipalities=municipalities,
        bias=bias,
        start=start,
    )
    return SyntheticMunicipality(
        signals=signals,
        households=_household_table(world, ids, codes),
        audit=_audit_table(world, ids, codes),
        outcomes=outcomes,
        true_risk=true_risk,
        summary=summary,
    )


def write_municipality(result: SyntheticMunicipality, out_dir: str | Path) -> Path:
    """Write the tables (parquet), ``summary.json`` and ``dataset.yaml`` into ``out_dir``; return ``out_dir``.

    Files are written to a temporary folder next to ``out_dir`` first and moved in only when all of them are
    complete, so a failure never leaves a half-written data set behind. Files of the same names are replaced.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for name, table in result.tables().items():
            table.to_parquet(staging / TABLE_FILES[name], index=False)
        summary = json.dumps(dict(result.summary), indent=2, sort_keys=True)
        (staging / SUMMARY_FILE).write_text(summary + "\n", encoding="utf-8")
        config = yaml.safe_dump(dataset_config(bias=_bias_of(result)), sort_keys=False, allow_unicode=True)
        (staging / CONFIG_FILE).write_text(config, encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        for path in sorted(staging.iterdir()):
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def dataset_config(*, bias: Sequence[str] = ()) -> dict[str, Any]:
    """The dataset config of a written synthetic municipality (paths relative to its folder), validated."""
    label_description = (
        "Entry into problematic debt (problematische schulden) within 12 months after the reference date, for every "
        "household that received an arrears signal in the month up to the reference date and was not already in "
        "problematic debt. Synthetic: the generator knows who entered, so this label has no selection bias unless the "
        "'under_recording' knob is on."
    )
    if "under_recording" in bias:
        label_description += (
            f" The 'under_recording' knob is ON: positives of households with origin '{UNDER_RECORDING_ORIGIN}' were "
            f"recorded as negative with probability {UNDER_RECORDING_PROBABILITY}, as when registration depends on "
            "who was reached; true_risk is the unbiased truth."
        )
    else:
        label_description += (
            " In real data this label is selection-biased: who is registered as entering debt assistance depends on "
            "who was reached."
        )
    knobs = ", ".join(bias) if bias else "none"
    raw = {
        "name": DATASET_NAME,
        "description": f"Synthetic municipality from vroegsignaal.training.synth (bias knobs: {knobs}).",
        "data": {name: file for name, file in TABLE_FILES.items()},
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
        "true_risk": TrueRiskSchema.true_risk,
        "capacity": {"fraction": 0.1},
        # The state pension reveals the 65+ band and household types follow age, so the features predict the age
        # band with a macro AUC of about 0.73-0.75 in this world; the gate flags every proxy stronger than that
        # natural one (the 'proxy' knob takes origin well above it).
        "fairness": {"gates": {"proxy_auc_max": PROXY_AUC_GATE}},
        "baseline_rule": [
            {"column": "crisis_signal_3m", "descending": True},
            {"column": "distinct_partners_12m", "descending": True},
            {"column": "total_arrears_eur", "descending": True},
        ],
    }
    parse_dataset_config(raw, source=CONFIG_FILE)  # a config we write must always load
    return raw


# ------------------------------------------------------------------------------------------------------ simulation


@dataclass(frozen=True)
class _Simulation:
    """What the monthly loop produced: chain states and debt status at every month end, entries, signal events."""

    vulnerability_class: np.ndarray
    states: np.ndarray
    in_debt: np.ndarray
    entered: np.ndarray
    events: SignalEvents
    risk: np.ndarray


def _simulate(
    world: Households,
    book: PartnerBook,
    parameters: WorldParameters,
    *,
    months: int,
    rng_initial: np.random.Generator,
    rng_months: np.random.Generator,
) -> _Simulation:
    """Run the stress chain, debt entries and exits, and the partners' signals, one month at a time."""
    T, hazard = transition_matrices(parameters)
    risk = risk_table(T, hazard)
    classes = world.vulnerability_class
    n = world.size
    # Start from the long-run distribution, so the first simulated month already looks like any other month.
    initial = _draw_rows(stationary_distribution(T, hazard, parameters.debt_exit).reshape(len(T), -1), classes,
                         rng_initial.random(n))
    state, in_debt = initial % N_STATES, initial >= N_STATES
    partners = PartnerState.start(book, state_level(state), state_is_spiral(state))
    cumulative = np.cumsum(T, axis=2)
    states = np.empty((n, months), dtype=np.int8)
    debt = np.empty((n, months), dtype=bool)
    entered = np.empty((n, months), dtype=bool)
    events = []
    for month in range(months):
        state = _draw_rows(cumulative, classes, rng_months.random(n), given=state, already_cumulative=True)
        draw = rng_months.random(n)
        entering = ~in_debt & (draw < hazard[classes, state])
        leaving = in_debt & (draw < parameters.debt_exit)
        in_debt = (in_debt | entering) & ~leaving
        states[:, month], debt[:, month], entered[:, month] = state, in_debt, entering
        levels, spiral = state_level(state), state_is_spiral(state)
        events.append(step_partners(partners, book, levels, spiral, month=month, rng=rng_months))
    return _Simulation(classes, states, debt, entered, SignalEvents.concat(events), risk)


def _draw_rows(
    table: np.ndarray,
    classes: np.ndarray,
    u: np.ndarray,
    *,
    given: np.ndarray | None = None,
    already_cumulative: bool = False,
) -> np.ndarray:
    """Draw one category per household from row ``table[class]`` (or ``table[class, given]``) by inverse CDF."""
    rows = table[classes] if given is None else table[classes, given]
    cumulative = rows if already_cumulative else np.cumsum(rows, axis=1)
    drawn = (u[:, None] * cumulative[:, -1:] > cumulative).sum(axis=1)
    return np.minimum(drawn, rows.shape[1] - 1)


@dataclass(frozen=True)
class _LabelRows:
    household: np.ndarray
    month: np.ndarray
    label: np.ndarray
    true_risk: np.ndarray


def _label_rows(
    world: Households,
    simulation: _Simulation,
    signal_household: np.ndarray,
    signal_month: np.ndarray,
    parameters: WorldParameters,
    *,
    months: int,
) -> _LabelRows:
    """One row per reference month and household signalled in that month and not in problematic debt."""
    reference_months = np.arange(HISTORY_MONTHS - 1, months - LABEL_HORIZON_MONTHS)
    signalled = np.zeros((world.size, months), dtype=bool)
    signalled[signal_household, signal_month] = True
    eligible = signalled[:, reference_months] & ~simulation.in_debt[:, reference_months]
    # Order rows by reference date, then household: the natural order of a monthly outcome table.
    column, household = np.nonzero(eligible.T)
    month = reference_months[column]
    entries = np.concatenate([np.zeros((world.size, 1), np.int32), np.cumsum(simulation.entered, axis=1, dtype=np.int32)],
                             axis=1)
    label = entries[household, month + 1 + LABEL_HORIZON_MONTHS] > entries[household, month + 1]
    state = simulation.states[household, month].astype(np.int64)
    true_risk = simulation.risk[simulation.vulnerability_class[household], state]
    return _LabelRows(household, month, label, true_risk)


def _record_labels(
    labels: _LabelRows, world: Households, bias: Sequence[str], rng: np.random.Generator
) -> np.ndarray:
    """The labels as the municipality records them: with ``under_recording``, some positives go missing."""
    draw = rng.random(len(labels.label))
    if "under_recording" not in bias:
        return labels.label.copy()
    affected = world.origin[labels.household] == ORIGINS.index(UNDER_RECORDING_ORIGIN)
    return labels.label & ~(affected & (draw < UNDER_RECORDING_PROBABILITY))


# ---------------------------------------------------------------------------------------------------------- tables


def _signal_table(
    events: SignalEvents,
    book: PartnerBook,
    ids: np.ndarray,
    codes: np.ndarray,
    signal_date: np.ndarray,
    arrears_start: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    warm = warm_handover_flags(events, rng)
    amounts = signal_amounts(events, book)
    order = np.lexsort((events.partner_code, events.household, signal_date))
    numbers = np.arange(1, len(order) + 1)
    return pd.DataFrame(
        {
            SignalSchema.household_id: pd.array(ids[events.household[order]], dtype="str"),
            SignalSchema.signal_id: pd.array(np.char.add("VS", np.char.zfill(numbers.astype(str), 10)), dtype="str"),
            SignalSchema.municipality_code: pd.array(codes[events.household[order]], dtype="str"),
            SignalSchema.partner_type: pd.array(np.asarray(PARTNER_TYPES_BY_CODE)[events.partner_code[order]], dtype="str"),
            SignalSchema.amount_eur: amounts[order],
            SignalSchema.arrears_start_date: arrears_start[order].astype("datetime64[ns]"),
            SignalSchema.signal_date: signal_date[order].astype("datetime64[ns]"),
            SignalSchema.crisis: events.crisis[order],
            SignalSchema.warm_handover: warm[order],
            SignalSchema.end_of_supply: events.end_of_supply[order],
        }
    )


def _household_table(world: Households, ids: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            HouseholdSchema.household_id: pd.array(ids, dtype="str"),
            HouseholdSchema.municipality_code: pd.array(codes, dtype="str"),
            HouseholdSchema.household_type: pd.array(np.asarray(HOUSEHOLD_TYPES)[world.household_type], dtype="str"),
            HouseholdSchema.benefit_type: pd.array(np.asarray(BENEFIT_TYPES)[world.benefit_type], dtype="str"),
            HouseholdSchema.municipal_tax_arrears_eur: world.municipal_tax_arrears_eur,
            HouseholdSchema.municipal_tax_remission: world.municipal_tax_remission,
            HouseholdSchema.prior_debt_assistance: world.prior_debt_assistance,
            HouseholdSchema.recent_move: world.recent_move,
        }
    )


def _audit_table(world: Households, ids: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    neighbourhood = np.char.add(np.char.add("WK", np.char.lstrip(codes.astype(str), "GM")),
                                np.char.zfill((world.neighbourhood + 1).astype(str), 2))
    return pd.DataFrame(
        {
            AuditSchema.household_id: pd.array(ids, dtype="str"),
            AuditSchema.age_band: pd.array(np.asarray(AGE_BANDS)[world.age_band], dtype="str"),
            AuditSchema.gender: pd.array(np.asarray(GENDERS)[world.gender], dtype="str"),
            AuditSchema.origin: pd.array(np.asarray(ORIGINS)[world.origin], dtype="str"),
            AuditSchema.neighbourhood: pd.array(neighbourhood, dtype="str"),
        }
    )


def _pseudonyms(n: int, *, seed: int, rng: np.random.Generator) -> np.ndarray:
    """HMAC-SHA256 pseudonyms of synthetic 9-digit numbers that fail the BSN eleven-test (never a real BSN)."""
    key = hashlib.sha256(f"vroegsignaal synthetic municipality key {seed}".encode()).digest()
    numbers = np.empty(0, dtype=np.int64)
    while len(numbers) < n:
        drawn = rng.integers(100_000_000, 1_000_000_000, size=int(1.2 * (n - len(numbers))) + 16)
        candidates = drawn[~_passes_eleven_test(drawn)]
        numbers = np.concatenate([numbers, candidates])
        _, first = np.unique(numbers, return_index=True)
        numbers = numbers[np.sort(first)]  # drop repeats, keep the order of drawing
    return np.array(
        [hmac.new(key, str(number).encode(), hashlib.sha256).hexdigest() for number in numbers[:n].tolist()],
        dtype=object,
    )


def _passes_eleven_test(numbers: np.ndarray) -> np.ndarray:
    digits = (numbers[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])
    return (digits @ weights) % 11 == 0


# --------------------------------------------------------------------------------------------------------- summary


def _summarize(
    world: Households,
    simulation: _Simulation,
    events: SignalEvents,
    signal_month: np.ndarray,
    labels: _LabelRows,
    recorded: np.ndarray,
    *,
    households: int,
    months: int,
    seed: int,
    municipalities: Sequence[str],
    bias: Sequence[str],
    start: date,
) -> dict[str, Any]:
    """Realised rates next to what they aim for (DESIGN.md "Domain facts"); flat, so a CLI can print it as a table."""
    partner = np.asarray(PARTNER_TYPES_BY_CODE)[events.partner_code]
    n_signals = len(partner)
    main = np.isin(partner, MAIN_PARTNERS)
    signals_per_household_month = n_signals / (households * months)
    summary: dict[str, Any] = {
        "households": households,
        "months": months,
        "seed": seed,
        "start": start.isoformat(),
        "municipalities": ",".join(municipalities),
        "bias": ",".join(bias) if bias else "none",
        "signals": n_signals,
        "signals_per_100_households_month": 100 * signals_per_household_month,
        "signals_per_1000_inhabitants_month": 1000 * signals_per_household_month / INHABITANTS_PER_HOUSEHOLD,
    }
    for name in MAIN_PARTNERS:
        summary[f"partner_share_{name}"] = _share(partner[main] == name)
    summary["optional_partner_share"] = _share(~main)
    summary.update(_case_rates(events.household, signal_month, households=households, months=months))
    debt = simulation.in_debt
    summary["problematic_debt_share"] = float(debt.mean())
    groups = {
        "single_parent": world.household_type == HOUSEHOLD_TYPES.index("single_parent"),
        "social_assistance": world.benefit_type == BENEFIT_TYPES.index("social_assistance"),
        "state_pension": world.benefit_type == BENEFIT_TYPES.index("state_pension"),
        **{f"age_{band}": world.age_band == i for i, band in enumerate(AGE_BANDS)},
    }
    for name, members in groups.items():
        summary[f"problematic_debt_share_{name}"] = float(debt[members].mean()) if members.any() else None
    cak_stock = (state_level(simulation.states) >= 6)  # premium unpaid 6 months or more
    summary["cak_premium_arrears_share"] = float(cak_stock.mean())
    summary["label_rows"] = int(len(recorded))
    summary["reference_dates"] = int(len(np.unique(labels.month)))
    summary["label_rate"] = _share(recorded)
    summary["true_label_rate"] = _share(labels.label)
    summary["mean_true_risk"] = float(labels.true_risk.mean()) if len(labels.true_risk) else None
    both = len(np.unique(recorded)) == 2
    summary["bayes_auc"] = float(roc_auc_score(recorded, labels.true_risk)) if both else None
    return {key: round(value, 6) if isinstance(value, float) else value for key, value in summary.items()}


def _case_rates(household: np.ndarray, month: np.ndarray, *, households: int, months: int) -> dict[str, float | None]:
    """A case is a household's signals in one month: how many start from one signal, how many repeat an earlier one."""
    case_key, per_case = np.unique(household.astype(np.int64) * months + month, return_counts=True)
    case_household, case_month = case_key // months, case_key % months
    signalled = np.zeros((households, months + 1), dtype=np.int32)
    signalled[case_household, case_month + 1] = 1
    before = np.cumsum(signalled, axis=1)
    window_start = np.maximum(case_month - REPEAT_CASE_MONTHS, 0)
    earlier = before[case_household, case_month] - before[case_household, window_start]
    return {
        "single_signal_case_share": _share(per_case == 1),
        "case_with_earlier_signal_6m_share": _share(earlier > 0),
    }


def _share(mask: np.ndarray) -> float | None:
    return float(np.mean(mask)) if len(mask) else None


# ---------------------------------------------------------------------------------------------------------- helpers


def _check_arguments(
    *, households: int, months: int, municipalities: Sequence[str], bias: Sequence[str], start: date
) -> None:
    problems = []
    if households < 1:
        problems.append(f"households={households}: {MSG_TOO_FEW_HOUSEHOLDS}")
    if months < MIN_MONTHS:
        problems.append(f"months={months}: {MSG_TOO_FEW_MONTHS}")
    unknown = [knob for knob in bias if knob not in BIAS_KNOBS]
    if unknown:
        problems.append(f"bias={', '.join(repr(k) for k in unknown)}: {MSG_UNKNOWN_BIAS}")
    if not municipalities:
        problems.append(f"municipalities: {MSG_NO_MUNICIPALITY}")
    bad = [code for code in municipalities if not re.fullmatch(MUNICIPALITY_PATTERN, str(code))]
    if bad:
        problems.append(f"municipalities={', '.join(repr(c) for c in bad)}: {MSG_BAD_MUNICIPALITY}")
    if start.day != 1:
        problems.append(f"start={start.isoformat()}: {MSG_START_NOT_FIRST}")
    if problems:
        raise ConfigError("synthetic municipality: " + "; ".join(problems))


def _bias_of(result: SyntheticMunicipality) -> tuple[str, ...]:
    knobs = str(result.summary.get("bias", "none"))
    return () if knobs == "none" else tuple(knobs.split(","))


def _select(events: SignalEvents, keep: np.ndarray) -> SignalEvents:
    return SignalEvents(*(getattr(events, name)[keep] for name in SignalEvents.__dataclass_fields__))


def _month_index(dates: np.ndarray, first_day: np.datetime64) -> np.ndarray:
    return (dates.astype("datetime64[M]") - first_day.astype("datetime64[M]")).astype(np.int64)


def _month_ends(first_day: np.datetime64, month: np.ndarray) -> np.ndarray:
    next_month = (first_day.astype("datetime64[M]") + (month + 1).astype("timedelta64[M]")).astype("datetime64[D]")
    return (next_month - np.timedelta64(1, "D")).astype("datetime64[ns]")
