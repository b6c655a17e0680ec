"""The synthetic municipality: valid tables, Dutch rates, an exact true risk, labels by the rule, and bias
knobs that plant exactly the bias they promise."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.dataset_config import load_dataset_config
from vroegsignaal.schemas.identifiers import find_identifier_columns
from vroegsignaal.schemas.tables import TABLE_SCHEMAS
from vroegsignaal.training.synth import (
    CONFIG_FILE,
    MSG_BAD_MUNICIPALITY,
    MSG_START_NOT_FIRST,
    MSG_TOO_FEW_HOUSEHOLDS,
    MSG_TOO_FEW_MONTHS,
    MSG_UNKNOWN_BIAS,
    SUMMARY_FILE,
    TABLE_FILES,
    UNDER_RECORDING_ORIGIN,
    UNDER_RECORDING_PROBABILITY,
    SyntheticMunicipality,
    generate_municipality,
    label_rows,
    reference_months,
    write_municipality,
)
from vroegsignaal.training.synth_summary import TARGETS
from vroegsignaal.training.synth_tables import passes_eleven_test
from vroegsignaal.training.synth_world import (
    N_CLASSES,
    WorldParameters,
    risk_table,
    setback,
    spiral,
    transition_matrices,
)

HOUSEHOLDS = 20_000
SEED = 11


@pytest.fixture(scope="module")
def town() -> SyntheticMunicipality:
    return generate_municipality(households=HOUSEHOLDS, seed=SEED)


@pytest.fixture(scope="module")
def under_recorded() -> SyntheticMunicipality:
    return generate_municipality(households=HOUSEHOLDS, seed=SEED, bias=("under_recording",))


@pytest.fixture(scope="module")
def proxied() -> SyntheticMunicipality:
    return generate_municipality(households=HOUSEHOLDS, seed=SEED, bias=("proxy",))


def with_audit(result: SyntheticMunicipality) -> pd.DataFrame:
    """Outcome rows with their true risk and audit attributes."""
    rows = result.outcomes.assign(true_risk=result.true_risk["true_risk"].to_numpy())
    return rows.merge(result.audit, on="household_id", how="left", validate="many_to_one")


# ----------------------------------------------------------------------------------------------------------
# tables


@pytest.mark.parametrize("name", list(TABLE_FILES))
def test_every_table_validates_against_its_schema(town, name):
    table = town.tables()[name]
    validated = TABLE_SCHEMAS[name].validate(table, lazy=True)
    assert len(validated) == len(table) > 0


@pytest.mark.parametrize("name", list(TABLE_FILES))
def test_no_column_looks_like_a_direct_identifier(town, name):
    assert find_identifier_columns(town.tables()[name], table=name) == []


def test_pseudonyms_are_64_hex_digits_and_unique(town):
    ids = town.households["household_id"]
    assert ids.str.fullmatch(r"[0-9a-f]{64}").all()
    assert ids.is_unique
    assert set(town.signals["household_id"]) <= set(ids) and set(town.audit["household_id"]) == set(ids)


def test_the_numbers_behind_pseudonyms_can_never_be_a_bsn():
    known_bsn, not_bsn = 111222333, 123456789
    assert passes_eleven_test(np.array([known_bsn, not_bsn])).tolist() == [True, False]


def test_outcomes_and_true_risk_have_the_same_rows(town):
    keys = ["household_id", "reference_date"]
    pd.testing.assert_frame_equal(town.outcomes[keys], town.true_risk[keys])


def test_households_are_spread_over_every_municipality_with_their_own_neighbourhood_codes():
    result = generate_municipality(households=3_000, seed=2, months=24, municipalities=("GM0344", "GM0363"))
    assert set(result.households["municipality_code"]) == {"GM0344", "GM0363"}
    joined = result.households.merge(result.audit, on="household_id")
    digits = joined["municipality_code"].str[2:]
    assert (joined["neighbourhood"].str[2:6] == digits).all()
    assert set(result.signals["municipality_code"]) <= {"GM0344", "GM0363"}


# --------------------------------------------------------------------------------------------- rates
# (DESIGN.md)


@pytest.mark.parametrize(
    ("rate", "slack"),
    [
        ("signals_per_1000_inhabitants_month", 0.4),
        ("partner_share_health_insurance", 0.02),
        ("partner_share_rent", 0.02),
        ("partner_share_energy", 0.02),
        ("partner_share_water", 0.02),
        ("single_signal_case_share", 0.03),
        ("case_with_earlier_signal_6m_share", 0.03),
        ("problematic_debt_share", 0.01),
        ("label_rate", 0.02),
    ],
)
def test_realised_rates_are_near_the_dutch_figures(town, rate, slack):
    low, high = TARGETS[rate]
    value = town.summary[rate]
    assert low - slack <= value <= high + slack, f"{rate}={value} outside [{low}, {high}] ± {slack}"


def test_optional_partners_are_a_small_extra(town):
    assert 0.01 <= town.summary["optional_partner_share"] <= 0.10


def test_problematic_debt_is_common_for_single_parents_and_social_assistance_and_rare_for_pensioners(town):
    overall = town.summary["problematic_debt_share"]
    assert town.summary["problematic_debt_share_single_parent"] > 1.4 * overall
    assert town.summary["problematic_debt_share_social_assistance"] > 1.8 * overall
    assert town.summary["problematic_debt_share_state_pension"] < 0.4 * overall


def test_problematic_debt_is_more_common_at_working_ages(town):
    bands = ("25-34", "35-44", "45-54", "55-64")
    working = [town.summary[f"problematic_debt_share_age_{band}"] for band in bands]
    assert min(working) > 3 * town.summary["problematic_debt_share_age_65+"]
    assert np.mean(working) > town.summary["problematic_debt_share_age_18-24"]


def test_summary_is_plain_json(town):
    assert json.loads(json.dumps(town.summary)) == dict(town.summary)


# ----------------------------------------------------------------------------------------------------------
# labels


def test_reference_dates_are_month_ends_after_a_year_of_history_with_a_year_left(town):
    dates = pd.DatetimeIndex(sorted(town.outcomes["reference_date"].unique()))
    expected = pd.date_range("2024-12-31", "2025-12-31", freq="ME")
    assert list(dates) == list(expected)
    assert list(reference_months(36)) == list(range(11, 24))


def test_every_label_row_had_a_signal_in_its_reference_month(town):
    signals = town.signals.assign(month_end=town.signals["signal_date"] + pd.offsets.MonthEnd(0))
    signalled = set(zip(signals["household_id"], signals["month_end"], strict=True))
    rows = set(zip(town.outcomes["household_id"], town.outcomes["reference_date"], strict=True))
    assert rows <= signalled


def test_label_rows_keep_signalled_households_outside_debt_and_look_twelve_months_ahead():
    months = 26  # reference months 11 and 12
    in_debt = np.zeros((4, months), dtype=bool)
    entered = np.zeros((4, months), dtype=bool)
    in_debt[1, 5:] = True  # household 1 is already in problematic debt
    entered[2, 11 + 12] = True  # household 2 enters in the 12th month after reference month 11
    entered[3, 12 + 13] = True  # household 3 enters in the 13th month after reference month 12: too late
    rows = label_rows(
        signal_household=np.array([0, 1, 2, 3, 0]),
        # household 0 also had an old signal, outside any reference month
        signal_month=np.array([11, 11, 11, 12, 3]),
        in_debt=in_debt,
        entered=entered,
    )
    found = list(zip(rows.household, rows.month, rows.label, strict=True))
    assert found == [(0, 11, False), (2, 11, True), (3, 12, False)]


def test_true_risk_is_a_probability_that_ranks_the_labels_well(town):
    risk = town.true_risk["true_risk"]
    assert risk.between(0, 1).all()
    assert roc_auc_score(town.outcomes["problematic_debt_12m"], risk) > 0.85
    assert town.summary["mean_true_risk"] == pytest.approx(town.summary["label_rate"], abs=0.03)


def test_risk_table_matches_a_monte_carlo_of_the_chain():
    parameters = WorldParameters()
    T, hazard = transition_matrices(parameters)
    risk = risk_table(T, hazard)
    rng = np.random.default_rng(0)
    cls = N_CLASSES // 2
    for start in (setback(2), spiral(2), spiral(4)):
        paths = 20_000
        state = np.full(paths, start)
        entered = np.zeros(paths, dtype=bool)
        cumulative = np.cumsum(T[cls], axis=1)
        for _ in range(12):
            state = np.minimum((rng.random(paths)[:, None] > cumulative[state]).sum(axis=1), T.shape[1] - 1)
            entered |= rng.random(paths) < hazard[cls, state]
        assert entered.mean() == pytest.approx(risk[cls, start], abs=0.015)


def test_transition_matrices_are_stochastic():
    T, hazard = transition_matrices(WorldParameters())
    np.testing.assert_allclose(T.sum(axis=2), 1.0)
    assert (T >= 0).all() and ((hazard >= 0) & (hazard <= 1)).all()


# ---------------------------------------------------------------------------------------------------------
# knobs


def test_under_recording_lowers_the_recorded_labels_of_outside_europe_only(town, under_recorded):
    base, knob = with_audit(town), with_audit(under_recorded)
    unaffected_before = base[base["origin"] != UNDER_RECORDING_ORIGIN].reset_index(drop=True)
    unaffected_after = knob[knob["origin"] != UNDER_RECORDING_ORIGIN].reset_index(drop=True)
    pd.testing.assert_frame_equal(unaffected_before, unaffected_after)
    affected = knob[knob["origin"] == UNDER_RECORDING_ORIGIN]
    recorded, truth = affected["problematic_debt_12m"].mean(), affected["true_risk"].mean()
    assert recorded < (1 - UNDER_RECORDING_PROBABILITY / 2) * truth
    assert under_recorded.summary["label_rate"] < under_recorded.summary["true_label_rate"]
    assert town.summary["label_rate"] == town.summary["true_label_rate"]


def _proxy_auc(result: SyntheticMunicipality) -> float:
    """How well three household facts pick out households of origin outside Europe."""
    facts = result.households.merge(result.audit, on="household_id")
    score = (
        facts["recent_move"].astype(int)
        + facts["municipal_tax_remission"].astype(int)
        + (facts["benefit_type"] == "social_assistance").astype(int)
    )
    return roc_auc_score(facts["origin"] == "outside_europe", score)


def test_without_a_knob_household_facts_say_little_about_origin(town):
    assert _proxy_auc(town) < 0.6


def test_proxy_knob_makes_household_facts_a_strong_proxy_for_origin(town, proxied):
    assert _proxy_auc(proxied) > 0.85 > _proxy_auc(town) + 0.2


def test_the_written_config_names_the_knob_in_the_label_description(under_recorded, tmp_path):
    config = load_dataset_config(write_municipality(under_recorded, tmp_path / "biased") / CONFIG_FILE)
    assert "under_recording" in config.label_description
    assert UNDER_RECORDING_ORIGIN in config.label_description


# ------------------------------------------------------------------------------------------ determinism and
# files


def _digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def test_the_same_seed_writes_identical_files_and_another_seed_does_not(tmp_path):
    small = {"households": 2_000, "months": 26}
    first = write_municipality(generate_municipality(seed=5, **small), tmp_path / "first")
    again = write_municipality(generate_municipality(seed=5, **small), tmp_path / "again")
    other = write_municipality(generate_municipality(seed=6, **small), tmp_path / "other")
    assert _digests(first) == _digests(again)
    assert _digests(first)["signals.parquet"] != _digests(other)["signals.parquet"]


def test_written_folder_holds_tables_summary_and_a_config_that_loads(town, tmp_path):
    folder = write_municipality(town, tmp_path / "town")
    assert {path.name for path in folder.iterdir()} == {*TABLE_FILES.values(), SUMMARY_FILE, CONFIG_FILE}
    staging_left_behind = [path for path in tmp_path.iterdir() if path.name.startswith(".")]
    assert not staging_left_behind
    config = load_dataset_config(folder / CONFIG_FILE)
    assert config.data.signals == (folder / "signals.parquet").resolve()
    assert (config.id, config.time, config.label, config.true_risk) == (
        "household_id", "reference_date", "problematic_debt_12m", "true_risk")
    assert [s.column for s in config.sensitive] == ["age_band", "gender", "origin", "neighbourhood"]
    assert [key.column for key in config.baseline_rule] == ["crisis_signal_3m", "distinct_partners_12m",
                                                            "total_arrears_eur"]
    assert config.capacity.fraction == 0.1 and "selection" in config.label_description
    written = pd.read_parquet(folder / "outcomes.parquet")
    pd.testing.assert_frame_equal(written, town.outcomes, check_dtype=False)
    assert json.loads((folder / SUMMARY_FILE).read_text()) == dict(town.summary)


# ----------------------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"households": 0}, MSG_TOO_FEW_HOUSEHOLDS),
        ({"months": 23}, MSG_TOO_FEW_MONTHS),
        ({"bias": ("undercount",)}, MSG_UNKNOWN_BIAS),
        ({"municipalities": ("Utrecht",)}, MSG_BAD_MUNICIPALITY),
        ({"start": date(2024, 1, 15)}, MSG_START_NOT_FIRST),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument_and_value(arguments, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        generate_municipality(**{"households": 100, "seed": 1, **arguments})
    name, value = next(iter(arguments.items()))
    assert name in str(raised.value)
    shown = value[0] if isinstance(value, tuple) else value
    assert str(shown if not isinstance(shown, date) else shown.isoformat()) in str(raised.value)
