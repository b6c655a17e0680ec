"""The tables' yes/no columns refuse missing values and values that are not a yes/no, instead of guessing one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from vroegsignaal.schemas.tables import HouseholdSchema, OutcomeSchema, SignalSchema

PSEUDONYMS = [f"hh_schema_{i:08d}" for i in range(3)]


def outcomes(*labels) -> pd.DataFrame:  # noqa: ANN002
    return pd.DataFrame(
        {
            OutcomeSchema.household_id: PSEUDONYMS[: len(labels)],
            OutcomeSchema.reference_date: "2026-01-01",
            OutcomeSchema.problematic_debt_12m: pd.Series(labels, dtype=object),
        }
    )


def households(flag: str, *values) -> pd.DataFrame:  # noqa: ANN002
    frame = pd.DataFrame(
        {
            HouseholdSchema.household_id: PSEUDONYMS[: len(values)],
            HouseholdSchema.municipality_code: "GM0344",
            HouseholdSchema.household_type: "single",
            HouseholdSchema.benefit_type: "none",
            HouseholdSchema.municipal_tax_arrears_eur: 0.0,
            HouseholdSchema.municipal_tax_remission: False,
            HouseholdSchema.prior_debt_assistance: False,
            HouseholdSchema.recent_move: False,
        }
    )
    frame[flag] = pd.Series(values, dtype=object)
    return frame


def signals(**flags) -> pd.DataFrame:  # noqa: ANN003
    frame = pd.DataFrame(
        {
            SignalSchema.household_id: PSEUDONYMS,
            SignalSchema.signal_id: ["s-1", "s-2", "s-3"],
            SignalSchema.municipality_code: "GM0344",
            SignalSchema.partner_type: ["rent", "energy", "water"],
            SignalSchema.amount_eur: 100.0,
            SignalSchema.arrears_start_date: "2025-12-01",
            SignalSchema.signal_date: "2026-01-01",
            SignalSchema.crisis: False,
            SignalSchema.warm_handover: False,
            SignalSchema.end_of_supply: False,
        }
    )
    for name, values in flags.items():
        frame[name] = pd.Series(values, dtype=object)
    return frame


def failure_cases(schema: type[pa.DataFrameModel], frame: pd.DataFrame) -> set[tuple[str, str, int]]:
    """(column, check, row) of every failure, without pandera's repeat of a coercion failure as a dtype failure."""
    with pytest.raises(pa.errors.SchemaErrors) as raised:
        schema.validate(frame, lazy=True)
    cases = raised.value.failure_cases
    cases = cases[~cases["check"].astype(str).str.startswith("dtype(")]
    return {(str(c), str(k), int(i)) for c, k, i in cases[["column", "check", "index"]].itertuples(index=False)}


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA], ids=["nan", "none", "na"])
def test_missing_label_is_refused_not_read_as_a_class(missing):
    assert failure_cases(OutcomeSchema, outcomes(True, missing, False)) == {
        (OutcomeSchema.problematic_debt_12m, "not_nullable", 1)
    }


@pytest.mark.parametrize(
    "flag",
    [HouseholdSchema.municipal_tax_remission, HouseholdSchema.prior_debt_assistance, HouseholdSchema.recent_move],
)
def test_missing_household_flag_is_refused(flag):
    assert failure_cases(HouseholdSchema, households(flag, False, None, True)) == {(flag, "not_nullable", 1)}


@pytest.mark.parametrize("value", ["nee", "ja", "yes", "no", "", 2, -1, 0.5, "2"], ids=repr)
def test_label_that_is_not_a_yes_no_value_is_refused_by_its_row(value):
    assert failure_cases(OutcomeSchema, outcomes(True, False, value)) == {
        (OutcomeSchema.problematic_debt_12m, "coerce_dtype('boolean')", 2)
    }


@pytest.mark.parametrize(
    "values",
    [(True, False), (np.True_, np.False_), (1, 0), (1.0, 0.0), ("True", "False"), ("true", "false"), (" TRUE ", "0"),
     ("1", "0.0")],
    ids=str,
)
def test_yes_no_values_and_their_csv_texts_are_read_as_booleans(values):
    validated = OutcomeSchema.validate(outcomes(*values), lazy=True)
    assert validated[OutcomeSchema.problematic_debt_12m].tolist() == [True, False]


def test_refused_end_of_supply_flags_are_not_reported_again_by_the_partner_rule():
    cases = failure_cases(SignalSchema, signals(end_of_supply=["nee", None, True]))
    assert cases == {
        (SignalSchema.end_of_supply, "coerce_dtype('boolean')", 0),
        (SignalSchema.end_of_supply, "not_nullable", 1),
    }


def test_end_of_supply_from_a_rent_partner_is_still_refused_when_written_as_text():
    cases = failure_cases(SignalSchema, signals(end_of_supply=["true", "false", "1"]))
    assert {(check, row) for _, check, row in cases} == {("end_of_supply_only_from_energy_or_water", 0)}
