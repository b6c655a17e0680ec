"""The synthetic municipality: realistic signal data with a known truth, because real signal data never leaves
a municipality.

:func:`generate_municipality` simulates households month by month and returns every table of the data contract
(signals, household facts, audit attributes, outcomes) plus the *true* risk behind each label;
:func:`write_municipality` writes them with a ready dataset config. ``docs/synthetic-municipality.md``
explains the model of the world, its parameters, the sources of its target rates and its limits. In short:

- **Households** (:mod:`~vroegsignaal.training.synth_world`) get static traits: household type, benefit,
  municipal-tax facts, prior debt assistance and a recent move (the facts a municipality holds and the model
  may use), and age band, gender, origin and neighbourhood (audit attributes only). Audit attributes shape the
  facts only where that is natural (65+ → state pension).
- **Stress.** Each month a household without arrears may be hit by a shock (job loss, separation, illness) at
  a rate set by its facts. A shock starts a *setback* (bills slip in the household's order of priority and the
  arrears are usually cleared) or, less often, a *spiral* (every bill goes unpaid and arrears deepen month
  after month).
- **Signals** follow the Wgs rules (:mod:`~vroegsignaal.training.synth_partners`). Households in problematic
  debt keep receiving signals.
- **Problematic debt** is entered with a monthly hazard that rises steeply with the depth of the arrears (and,
  for households without arrears, with their susceptibility: most debts start with creditors outside the
  signal partners), and left after about five years.
- **Labels** (:func:`label_rows`): for each month-end reference date after 12 months of history and with 12
  months of future left, every household that received a signal in that month and is not already in
  problematic debt gets a row; the label says whether it entered problematic debt in the 12 months after the
  reference date.
- **True risk** is the exact probability of that label given the household's state on the reference date (the
  stress chain is small, so it is computed by matrix powers, not sampled): the AUC of ``true_risk`` on the
  labels is the Bayes limit no model can beat.

Bias knobs (``bias=``), off by default, plant a known unfairness so tests can prove the fairness audit finds
it:

``"under_recording"``
    A positive label of a household with origin ``outside_europe`` is recorded as negative with probability
    :data:`UNDER_RECORDING_PROBABILITY` (0.6): registration depends on who was reached. ``true_risk`` stays
    the truth. So that a model *can* learn the bias, this knob also makes recent moves common among these
    households (:data:`~vroegsignaal.training.synth_world.UNDER_RECORDING_RECENT_MOVE`): a proxy the model
    picks up, so its recall for them falls (to about 0.6 of the other groups' at a 10% capacity on a million
    households).
``"proxy"``
    Remission of municipal taxes, social assistance and recent moves (all model features) depend strongly on
    origin, so the features become a proxy for origin ``outside_europe``. These facts also raise the
    households' rates of shocks, so their true risk follows.

Household pseudonyms are HMAC-SHA256 (hex) of a synthetic 9-digit number under a synthetic key derived from
the seed. The numbers are drawn so that they *fail* the BSN eleven-test (they can never be anyone's BSN) and
are never stored. The same seed and arguments always give the same tables and the same files.
"""

from __future__ import annotations

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

from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.signal_dataset import CONFIG_FILE, signal_dataset_config
from vroegsignaal.schemas.tables import MUNICIPALITY_PATTERN, TrueRiskSchema
from vroegsignaal.training.synth_partners import (
    PARTNER_TYPES_BY_CODE,
    PartnerBook,
    PartnerState,
    SignalEvents,
    draw_partner_book,
    keyed_uniforms,
    signal_calendar,
    step_partners,
)
from vroegsignaal.training.synth_summary import summarize
from vroegsignaal.training.synth_tables import (
    audit_table,
    household_table,
    outcome_tables,
    pseudonyms,
    signal_table,
)
from vroegsignaal.training.synth_world import (
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
#: Months of signal history up to and including the first reference month (the features look back 12 months).
HISTORY_MONTHS = 12
MIN_MONTHS = HISTORY_MONTHS + LABEL_HORIZON_MONTHS
TABLE_FILES: dict[str, str] = {
    "signals": "signals.parquet",
    "households": "households.parquet",
    "audit": "audit.parquet",
    "outcomes": "outcomes.parquet",
    "true_risk": "true_risk.parquet",
}
SUMMARY_FILE = "summary.json"
DATASET_NAME = "synthetic-municipality"

MSG_TOO_FEW_HOUSEHOLDS = "households must be at least 1"
MSG_TOO_FEW_MONTHS = f"months must be at least {MIN_MONTHS} (12 of history up to a reference date, 12 ahead)"
MSG_UNKNOWN_BIAS = f"unknown bias knob; choose from {', '.join(BIAS_KNOBS)}"
MSG_BAD_PROBABILITY = "must be above 0 and at most 1"
MSG_BAD_MUNICIPALITY = "municipality codes must look like GM0344 (CBS gemeentecode)"
MSG_NO_MUNICIPALITY = "at least one municipality code is needed"
MSG_START_NOT_FIRST = "start must be the first day of a month"

#: One random stream per part of the world, so a bias knob that changes one part leaves the others untouched.
_RNG_STREAMS = (
    "households", "partners", "initial", "months", "calendar", "warm_handover", "labels", "pseudonyms"
)


@dataclass(frozen=True)
class SyntheticMunicipality:
    """The generated tables (each valid against its schema in :mod:`vroegsignaal.schemas.tables`) and a
    summary of the realised rates next to the Dutch figures they aim for."""

    signals: pd.DataFrame
    households: pd.DataFrame
    audit: pd.DataFrame
    outcomes: pd.DataFrame
    true_risk: pd.DataFrame
    summary: Mapping[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by their name in the data contract."""
        return {name: getattr(self, name) for name in TABLE_FILES}

    @property
    def bias(self) -> tuple[str, ...]:
        """The bias knobs this municipality was made with."""
        knobs = str(self.summary.get("bias", "none"))
        return () if knobs == "none" else tuple(knobs.split(","))

    @property
    def last_day(self) -> date:
        """The last simulated day: the synthetic data's day of extraction, by which every signal was sent and
        every label window ended."""
        first_day = np.datetime64(str(self.summary["start"]), "D")
        return pd.Timestamp(_month_ends(first_day, np.array([int(self.summary["months"]) - 1]))[0]).date()


def generate_municipality(
    *,
    households: int,
    seed: int,
    months: int = 36,
    municipalities: Sequence[str] = ("GM0344",),
    bias: Sequence[str] = (),
    start: date = date(2024, 1, 1),
    parameters: WorldParameters | None = None,
    under_recording_probability: float = UNDER_RECORDING_PROBABILITY,
) -> SyntheticMunicipality:
    """Simulate a municipality of ``households`` households over ``months`` months from ``start``.

    Parameters
    ----------
    households
        Number of households (spread evenly over ``municipalities``).
    seed
        Random seed: the same seed and arguments give identical tables.
    months
        Months to simulate, at least :data:`MIN_MONTHS`; see :func:`reference_months` for the reference dates
        (13 with the default 36 months).
    municipalities
        CBS municipality codes (``GM`` and four digits).
    bias
        Bias knobs to plant, from :data:`BIAS_KNOBS` (see the module documentation).
    start
        First day of the first simulated month.
    parameters
        The world's rates; the defaults are tuned to the Dutch figures (see
        ``docs/synthetic-municipality.md``).
    under_recording_probability
        Strength of the ``under_recording`` knob: the chance that a positive of the affected group is recorded
        as negative. Tests raise it to prove the audit catches a planted bias on a moderate sample.

    Raises
    ------
    ConfigError
        For a non-positive number of households, too few months, an unknown bias knob, a malformed
        municipality code or a start date that is not the first of a month.
    """
    _check_arguments(
        households=households, months=months, municipalities=municipalities, bias=bias, start=start
    )
    if not 0 < under_recording_probability <= 1:
        raise ConfigError(
            f"synthetic municipality: under_recording_probability={under_recording_probability}: "
            f"{MSG_BAD_PROBABILITY}"
        )
    parameters = parameters or WorldParameters()
    streams = np.random.SeedSequence(seed).spawn(len(_RNG_STREAMS))
    named = dict(zip(_RNG_STREAMS, streams, strict=True))
    rng = {name: np.random.default_rng(stream) for name, stream in named.items()}
    keys = {name: int(stream.generate_state(1, dtype=np.uint64)[0]) for name, stream in named.items()}
    world = draw_households(
        households,
        rng["households"],
        n_municipalities=len(municipalities),
        proxy="proxy" in bias,
        move_proxy="under_recording" in bias,
    )
    book = draw_partner_book(world, rng["partners"])
    simulation = _simulate(
        world, book, parameters, months=months, rng_initial=rng["initial"], rng_months=rng["months"]
    )

    first_day = np.datetime64(start, "D")
    events, signal_date, arrears_start = _dated_events(
        simulation.events, book, first_day=first_day, months=months, key=keys["calendar"]
    )
    signal_month = _month_index(signal_date, first_day)
    rows = label_rows(
        signal_household=events.household,
        signal_month=signal_month,
        in_debt=simulation.in_debt,
        entered=simulation.entered,
    )
    row_class = simulation.vulnerability_class[rows.household]
    true_risk = simulation.risk[row_class, simulation.states[rows.household, rows.month]]
    recorded = _record_labels(rows, world, bias, key=keys["labels"], probability=under_recording_probability)

    ids = pseudonyms(households, seed=seed, rng=rng["pseudonyms"])
    codes = np.asarray(municipalities)[world.municipality]
    reference_dates = _month_ends(first_day, rows.month)
    outcomes, risk = outcome_tables(ids[rows.household], reference_dates, recorded, true_risk)
    run = {
        "households": households,
        "months": months,
        "seed": seed,
        "start": start.isoformat(),
        "municipalities": ",".join(municipalities),
        "bias": ",".join(bias) if bias else "none",
    }
    if "under_recording" in bias:
        run["under_recording_probability"] = under_recording_probability
    summary = summarize(
        world,
        partner_code=events.partner_code,
        signal_household=events.household,
        signal_month=signal_month,
        states=simulation.states,
        in_debt=simulation.in_debt,
        label=rows.label,
        recorded=recorded,
        true_risk=true_risk,
        label_month=rows.month,
        partner_types=PARTNER_TYPES_BY_CODE,
        run=run,
    )
    return SyntheticMunicipality(
        signals=signal_table(events, book, ids, codes, signal_date, arrears_start, key=keys["warm_handover"]),
        households=household_table(world, ids, codes),
        audit=audit_table(world, ids, codes),
        outcomes=outcomes,
        true_risk=risk,
        summary=summary,
    )


def write_municipality(result: SyntheticMunicipality, out_dir: str | Path) -> Path:
    """Write the tables (parquet), ``summary.json`` and ``dataset.yaml`` into ``out_dir``; return ``out_dir``.

    Files are written to a temporary folder next to ``out_dir`` first and moved in only when all of them are
    complete, so a failure never leaves a half-written data set behind. Files of the same names are replaced.
    """
    out = Path(out_dir)
    blocking = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise ConfigError(f"--out: '{blocking}' is a file, not a folder; choose a folder for the data set")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for name, table in result.tables().items():
            table.to_parquet(staging / TABLE_FILES[name], index=False)
        summary = json.dumps(dict(result.summary), indent=2, sort_keys=True)
        (staging / SUMMARY_FILE).write_text(summary + "\n", encoding="utf-8")
        probability = float(result.summary.get("under_recording_probability", UNDER_RECORDING_PROBABILITY))
        config = yaml.safe_dump(
            dataset_config(
                bias=result.bias, under_recording_probability=probability, extracted_on=result.last_day
            ),
            sort_keys=False,
            allow_unicode=True,
        )
        (staging / CONFIG_FILE).write_text(config, encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        for path in sorted(staging.iterdir()):
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def dataset_config(
    *,
    extracted_on: date,
    bias: Sequence[str] = (),
    under_recording_probability: float = UNDER_RECORDING_PROBABILITY,
) -> dict[str, Any]:
    """The dataset config of a written synthetic municipality (data paths relative to its folder, extracted on
    its last simulated day), validated."""
    label_description = (
        "Entry into problematic debt (problematische schulden) within 12 months after the reference date, "
        "for every household that received an arrears signal in the month up to the reference date and was "
        "not already in problematic debt. Synthetic: the generator knows who entered, so this label has no "
        "selection bias unless the 'under_recording' knob is on."
    )
    if "under_recording" in bias:
        label_description += (
            " The 'under_recording' knob is ON: positives of households with origin "
            f"'{UNDER_RECORDING_ORIGIN}' were recorded as negative with probability "
            f"{under_recording_probability}, as when registration depends on who was reached; true_risk is "
            "the unbiased truth."
        )
    else:
        label_description += (
            " In real data this label is selection-biased: who is registered as entering debt assistance "
            "depends on who was reached."
        )
    knobs = ", ".join(bias) or "none"
    return signal_dataset_config(
        name=DATASET_NAME,
        description=f"Synthetic municipality (vroegsignaal.training.synth), bias knobs: {knobs}.",
        label_description=label_description,
        data=TABLE_FILES,
        true_risk=TrueRiskSchema.true_risk,
        extracted_on=extracted_on,
    )


def reference_months(months: int) -> np.ndarray:
    """The simulated months (0-based) whose last day is a reference date: 12 months of history up to and
    including the month, and the 12 months of the label after it, inside the simulation."""
    return np.arange(HISTORY_MONTHS - 1, months - LABEL_HORIZON_MONTHS)


@dataclass(frozen=True)
class LabelRows:
    """The label rows: household (index), reference month, and whether it entered problematic debt after
    it."""

    household: np.ndarray
    month: np.ndarray
    label: np.ndarray


def label_rows(
    *, signal_household: np.ndarray, signal_month: np.ndarray, in_debt: np.ndarray, entered: np.ndarray
) -> LabelRows:
    """One row per reference month and household that received a signal in that month and is not in
    problematic debt at its end; the label is entry into problematic debt in the 12 months after it.

    ``in_debt[h, m]`` is the debt status at the end of month ``m``; ``entered[h, m]`` whether the household
    entered problematic debt in month ``m``. Rows are ordered by month, then household.
    """
    n, months = in_debt.shape
    reference = reference_months(months)
    signalled = np.zeros((n, months), dtype=bool)
    signalled[signal_household, signal_month] = True
    eligible = signalled[:, reference] & ~in_debt[:, reference]
    column, household = np.nonzero(eligible.T)
    month = reference[column]
    entries_before = np.zeros((n, months + 1), dtype=np.int32)  # entries_before[h, m] = entries in months < m
    np.cumsum(entered, axis=1, out=entries_before[:, 1:])
    label = entries_before[household, month + 1 + LABEL_HORIZON_MONTHS] > entries_before[household, month + 1]
    return LabelRows(household=household, month=month, label=label)


# ------------------------------------------------------------------------------------------------------
# simulation


@dataclass(frozen=True)
class _Simulation:
    """What the monthly loop produced: chain states and debt status at every month end, entries, signal
    events, and the exact 12-month risk per class and state."""

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
    classes = world.vulnerability_class
    n = world.size
    # Start from the long-run distribution, so the first simulated month already looks like any other month.
    long_run = stationary_distribution(T, hazard, parameters.debt_exit).reshape(len(T), -1)
    initial = _draw(np.cumsum(long_run, axis=1)[classes], rng_initial.random(n))
    state, in_debt = initial % N_STATES, initial >= N_STATES
    partners = PartnerState.start(book, state_level(state), state_is_spiral(state))
    cumulative = np.cumsum(T, axis=2)
    states = np.empty((n, months), dtype=np.int8)
    debt = np.empty((n, months), dtype=bool)
    entered = np.empty((n, months), dtype=bool)
    events = []
    for month in range(months):
        state = _draw(cumulative[classes, state], rng_months.random(n))
        draw = rng_months.random(n)
        entering = ~in_debt & (draw < hazard[classes, state])
        leaving = in_debt & (draw < parameters.debt_exit)
        in_debt = (in_debt | entering) & ~leaving
        states[:, month], debt[:, month], entered[:, month] = state, in_debt, entering
        events.append(step_partners(partners, book, state_level(state), state_is_spiral(state), month=month,
                                    rng=rng_months))
    return _Simulation(classes, states, debt, entered, SignalEvents.concat(events), risk_table(T, hazard))


def _draw(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One category per row by inverse CDF (``cumulative`` holds each row's cumulative probabilities)."""
    drawn = (u[:, None] * cumulative[:, -1:] > cumulative).sum(axis=1)
    return np.minimum(drawn, cumulative.shape[1] - 1)


def _record_labels(
    rows: LabelRows, world: Households, bias: Sequence[str], *, key: int, probability: float
) -> np.ndarray:
    """The labels as the municipality records them: with ``under_recording``, some positives go missing."""
    draw = keyed_uniforms(key, rows.household, rows.month)
    if "under_recording" not in bias:
        return rows.label.copy()
    affected = world.origin[rows.household] == ORIGINS.index(UNDER_RECORDING_ORIGIN)
    return rows.label & ~(affected & (draw < probability))


# ----------------------------------------------------------------------------------------------------------
# helpers


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
    malformed = [code for code in municipalities if not re.fullmatch(MUNICIPALITY_PATTERN, str(code))]
    if malformed:
        problems.append(f"municipalities={', '.join(repr(c) for c in malformed)}: {MSG_BAD_MUNICIPALITY}")
    if start.day != 1:
        problems.append(f"start={start.isoformat()}: {MSG_START_NOT_FIRST}")
    if problems:
        raise ConfigError("synthetic municipality: " + "; ".join(problems))


def _dated_events(
    events: SignalEvents, book: PartnerBook, *, first_day: np.datetime64, months: int, key: int
) -> tuple[SignalEvents, np.ndarray, np.ndarray]:
    """The events with their signal and arrears start dates, without those dated after the simulated period (a
    signal for the last month can go out in the next)."""
    signal_date, arrears_start = signal_calendar(events, book, start=first_day, key=key)
    inside = _month_index(signal_date, first_day) < months
    kept = SignalEvents(*(getattr(events, name)[inside] for name in SignalEvents.__dataclass_fields__))
    return kept, signal_date[inside], arrears_start[inside]


def _month_index(dates: np.ndarray, first_day: np.datetime64) -> np.ndarray:
    return (dates.astype("datetime64[M]") - first_day.astype("datetime64[M]")).astype(np.int64)


def _month_ends(first_day: np.datetime64, month: np.ndarray) -> np.ndarray:
    first_month = first_day.astype("datetime64[M]")
    next_month = (first_month + (month + 1).astype("timedelta64[M]")).astype("datetime64[D]")
    return (next_month - np.timedelta64(1, "D")).astype("datetime64[ns]")
