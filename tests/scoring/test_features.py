"""The feature builder: every feature on tiny hand-made signal tables with known answers, plus properties."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vroegsignaal.errors import DataValidationError
from vroegsignaal.schemas.catalogue import FEATURE_NAMES
from vroegsignaal.schemas.enums import PartnerType
from vroegsignaal.schemas.tables import FeatureSchema
from vroegsignaal.scoring.features import (
    DAYS_PER_MONTH,
    FEATURE_COLUMNS,
    MSG_BAD_DATES,
    MSG_DUPLICATE_HOUSEHOLD,
    MSG_DUPLICATE_REFERENCE,
    MSG_MISSING_COLUMNS,
    MSG_UNKNOWN_HOUSEHOLD,
    REPEAT_LOOKBACK_DAYS,
    WINDOW_3M_DAYS,
    WINDOW_6M_DAYS,
    WINDOW_12M_DAYS,
    build_features,
)

REFERENCE = pd.Timestamp("2025-06-30")
ANNA = "household-anna-0001"
BERT = "household-bert-0002"
CHRIS = "household-chris-0003"


def days_before(days: int, reference: pd.Timestamp = REFERENCE) -> pd.Timestamp:
    return reference - pd.Timedelta(days=days)


def signal(
    household: str = ANNA,
    partner: str = "rent",
    *,
    amount: float = 100.0,
    sent: int = 10,
    arrears_since: int | None = None,
    crisis: bool = False,
    end_of_supply: bool = False,
) -> dict:
    """One signal row; ``sent`` and ``arrears_since`` are days before the reference date."""
    since = sent + 30 if arrears_since is None else arrears_since
    return {
        "household_id": household,
        "signal_id": f"sig-{household}-{partner}-{sent}-{amount}",
        "municipality_code": "GM0344",
        "partner_type": partner,
        "amount_eur": amount,
        "arrears_start_date": days_before(since),
        "signal_date": days_before(sent),
        "crisis": crisis,
        "warm_handover": False,
        "end_of_supply": end_of_supply,
    }


def signals_frame(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(signal().keys()))
    return frame.astype({"amount_eur": float, "crisis": bool, "warm_handover": bool, "end_of_supply": bool})


def households_frame(*ids: str, **facts) -> pd.DataFrame:
    rows = [
        {
            "household_id": household,
            "municipality_code": "GM0344",
            "household_type": facts.get("household_type", "single"),
            "benefit_type": facts.get("benefit_type", "none"),
            "municipal_tax_arrears_eur": facts.get("municipal_tax_arrears_eur", 0.0),
            "municipal_tax_remission": facts.get("municipal_tax_remission", False),
            "prior_debt_assistance": facts.get("prior_debt_assistance", False),
            "recent_move": facts.get("recent_move", False),
        }
        for household in ids
    ]
    return pd.DataFrame(rows)


def reference_frame(*pairs: tuple[str, pd.Timestamp]) -> pd.DataFrame:
    return pd.DataFrame({"household_id": [p[0] for p in pairs], "reference_date": [p[1] for p in pairs]})


def features_of(*rows: dict, household: str = ANNA, reference: pd.Timestamp = REFERENCE) -> pd.Series:
    """The feature row of one household on one reference date."""
    reference_rows = reference_frame((household, reference))
    frame = build_features(signals_frame(*rows), households_frame(household), reference_rows)
    return frame.iloc[0]


# ------------------------------------------------------------------------------------------------ shape and
# dtypes


def test_output_has_exactly_the_feature_schema_columns_and_already_its_dtypes():
    frame = build_features(
        signals_frame(signal(ANNA, "rent"), signal(BERT, "energy", end_of_supply=True)),
        households_frame(ANNA, BERT, CHRIS, household_type="single_parent", recent_move=True),
        reference_frame((ANNA, REFERENCE), (BERT, REFERENCE), (CHRIS, REFERENCE)),
    )
    assert tuple(frame.columns) == FEATURE_COLUMNS == ("household_id", "reference_date", *FEATURE_NAMES)
    validated = FeatureSchema.validate(frame, lazy=True)
    pd.testing.assert_frame_equal(validated, frame)  # coercion changed nothing: the dtypes are the schema's


def test_household_without_signals_gets_zeros_and_its_household_facts():
    frame = build_features(
        signals_frame(signal(BERT, "rent")),
        households_frame(ANNA, BERT, benefit_type="social_assistance", municipal_tax_arrears_eur=125.5,
                         municipal_tax_remission=True, prior_debt_assistance=True, recent_move=True),
        reference_frame((ANNA, REFERENCE)),
    )
    row = frame.iloc[0]
    signal_features = [name for name in FEATURE_NAMES if name not in {
        "household_type", "benefit_type", "municipal_tax_arrears_eur", "municipal_tax_remission",
        "prior_debt_assistance", "recent_move"}]
    assert (row[signal_features] == 0).all()
    assert row["benefit_type"] == "social_assistance" and row["household_type"] == "single"
    assert row["municipal_tax_arrears_eur"] == 125.5
    assert (row["municipal_tax_remission"], row["prior_debt_assistance"], row["recent_move"]) == (1, 1, 1)


def test_output_keeps_the_order_and_index_of_the_reference_rows():
    reference = reference_frame((CHRIS, REFERENCE), (ANNA, REFERENCE), (BERT, days_before(30)))
    reference.index = [7, 3, 5]
    frame = build_features(signals_frame(signal(ANNA)), households_frame(ANNA, BERT, CHRIS), reference)
    assert list(frame.index) == [7, 3, 5]
    assert list(frame["household_id"]) == [CHRIS, ANNA, BERT]
    assert list(frame["reference_date"]) == [REFERENCE, REFERENCE, days_before(30)]


def test_empty_reference_gives_an_empty_frame_of_the_schema():
    frame = build_features(signals_frame(signal()), households_frame(ANNA), reference_frame())
    assert frame.empty and tuple(frame.columns) == FEATURE_COLUMNS
    FeatureSchema.validate(frame)


# -------------------------------------------------------------------------------------------------- time
# windows


def test_signal_on_the_reference_date_counts_and_a_later_one_is_ignored():
    row = features_of(signal(sent=0, amount=300.0), signal(sent=-1, amount=999.0, crisis=True))
    assert row["signals_3m"] == 1 and row["signals_12m"] == 1
    assert row["rent_arrears_eur"] == 300.0
    assert row["crisis_signal_3m"] == 0
    assert row["months_since_first_signal"] == 0.0


@pytest.mark.parametrize(
    ("sent", "in_3m", "in_12m"),
    [
        (WINDOW_3M_DAYS - 1, 1, 1),
        (WINDOW_3M_DAYS, 0, 1),
        (WINDOW_12M_DAYS - 1, 0, 1),
        (WINDOW_12M_DAYS, 0, 0),
    ],
)
def test_window_edges_hold_the_reference_date_and_the_days_before_it(sent, in_3m, in_12m):
    row = features_of(signal(sent=sent, crisis=True))
    assert (row["signals_3m"], row["signals_12m"], row["rent_signals_12m"]) == (in_3m, in_12m, in_12m)
    assert row["crisis_signal_3m"] == in_3m


def test_the_same_household_on_two_reference_dates_sees_only_its_past():
    early, late = days_before(100), REFERENCE
    frame = build_features(
        signals_frame(signal(sent=150, amount=100.0), signal(sent=20, amount=400.0)),
        households_frame(ANNA),
        reference_frame((ANNA, early), (ANNA, late)),
    )
    assert list(frame["signals_12m"]) == [1, 2]
    assert list(frame["rent_arrears_eur"]) == [100.0, 400.0]


def test_a_signal_received_after_the_reference_date_is_not_counted_there():
    # Sent 20 days before the reference date, received 10 days after it: unknown when the household was scored.
    signals = signals_frame(signal(sent=20, amount=2_000.0, crisis=True), signal(sent=40, amount=500.0))
    signals["known_date"] = [days_before(-10), days_before(38)]
    early, later = REFERENCE, days_before(-30)
    frame = build_features(signals, households_frame(ANNA), reference_frame((ANNA, early), (ANNA, later)))
    assert list(frame["signals_12m"]) == [1, 2]
    assert list(frame["crisis_signal_3m"]) == [0, 1]
    assert list(frame["rent_arrears_eur"]) == [500.0, 2_000.0]
    # With a missing receipt date (or none at all) the signal date decides, as before.
    signals["known_date"] = [pd.NaT, days_before(38)]
    assert build_features(signals, households_frame(ANNA), reference_frame((ANNA, early)))["signals_12m"].tolist() == [2]


# ------------------------------------------------------------------------------------------ partners and
# amounts


def test_counts_per_partner_group_put_optional_partners_in_other():
    row = features_of(
        signal(partner="rent", sent=5),
        signal(partner="health_insurance", sent=6),
        signal(partner="health_insurance", sent=70),
        signal(partner="cak", sent=7),
        signal(partner="duo", sent=8),
        signal(partner="mortgage", sent=9),
        signal(partner="energy", sent=200),
    )
    assert row["rent_signals_12m"] == 1
    assert row["health_insurance_signals_12m"] == 2
    assert row["other_signals_12m"] == 3
    assert row["energy_signals_12m"] == 1 and row["water_signals_12m"] == 0
    assert row["signals_12m"] == 7 and row["signals_3m"] == 6
    # partner *types*, not groups: CAK, DUO and the mortgage lender are three partners
    assert row["distinct_partners_12m"] == 6


def test_latest_signal_per_group_gives_amount_and_months_since_its_arrears_start():
    row = features_of(
        signal(partner="rent", sent=90, arrears_since=120, amount=700.0),
        signal(partner="rent", sent=30, arrears_since=61, amount=1450.0),
        signal(partner="water", sent=10, arrears_since=40, amount=35.0),
    )
    assert row["rent_arrears_eur"] == 1450.0
    assert row["rent_arrears_months"] == pytest.approx(61 / DAYS_PER_MONTH)
    assert row["water_arrears_eur"] == 35.0
    assert row["water_arrears_months"] == pytest.approx(40 / DAYS_PER_MONTH)
    assert row["total_arrears_eur"] == 1485.0  # latest per group, not every signal
    assert row["max_arrears_eur"] == 1450.0
    assert row["max_arrears_months"] == pytest.approx(120 / DAYS_PER_MONTH)


def test_on_the_same_signal_date_the_larger_amount_is_the_latest():
    row = features_of(
        signal(partner="energy", sent=3, amount=80.0), signal(partner="energy", sent=3, amount=250.0)
    )
    assert row["energy_arrears_eur"] == 250.0


def test_other_group_amount_is_the_latest_of_any_optional_partner():
    row = features_of(
        signal(partner="tax_office", sent=50, amount=2000.0), signal(partner="cak", sent=5, amount=900.0)
    )
    assert row["other_arrears_eur"] == 900.0
    assert row["max_arrears_eur"] == 2000.0
    assert row["total_arrears_eur"] == 900.0


def test_max_arrears_months_uses_the_earliest_start_among_signals_of_the_last_year():
    row = features_of(
        signal(partner="energy", sent=400, arrears_since=700),  # outside the window: ignored
        signal(partner="energy", sent=100, arrears_since=300),
        signal(partner="rent", sent=5, arrears_since=40),
    )
    assert row["max_arrears_months"] == pytest.approx(300 / DAYS_PER_MONTH)


def test_months_since_first_signal_looks_back_beyond_the_year():
    row = features_of(signal(sent=500), signal(sent=5))
    assert row["months_since_first_signal"] == pytest.approx(500 / DAYS_PER_MONTH)
    assert row["signals_12m"] == 1


# ------------------------------------------------------------------------------------- repeats, flags and
# trend


def test_repeat_signals_are_same_partner_signals_after_an_earlier_one_within_the_look_back():
    row = features_of(
        signal(partner="rent", sent=200),  # outside the six months itself, but it makes the next one a repeat
        signal(partner="rent", sent=30),  # 170 days later: a repeat
        signal(partner="energy", sent=25),  # another partner: not a repeat
        signal(partner="energy", sent=25, amount=50.0),  # the same day as that energy signal: not a repeat
    )
    assert row["repeat_signals_6m"] == 1


def test_an_earlier_signal_just_outside_the_look_back_does_not_make_a_repeat():
    gap = REPEAT_LOOKBACK_DAYS + 1
    row = features_of(signal(partner="water", sent=10 + gap), signal(partner="water", sent=10))
    assert row["repeat_signals_6m"] == 0
    row = features_of(
        signal(partner="water", sent=10 + REPEAT_LOOKBACK_DAYS), signal(partner="water", sent=10)
    )
    assert row["repeat_signals_6m"] == 1


def test_repeat_signals_count_only_inside_the_six_month_window():
    row = features_of(signal(sent=WINDOW_6M_DAYS + 60), signal(sent=WINDOW_6M_DAYS + 1))
    assert row["repeat_signals_6m"] == 0


def test_crisis_and_end_of_supply_flags_cover_the_last_three_months():
    row = features_of(
        signal(partner="energy", sent=20, end_of_supply=True), signal(partner="rent", sent=95, crisis=True)
    )
    assert (row["end_of_supply_3m"], row["crisis_signal_3m"]) == (1, 0)


def test_trend_is_the_least_squares_slope_of_amounts_per_month():
    row = features_of(signal(sent=61, amount=100.0), signal(partner="energy", sent=0, amount=300.0))
    assert row["arrears_trend_eur_per_month"] == pytest.approx(200.0 / 61 * DAYS_PER_MONTH)
    falling = features_of(
        signal(sent=100, amount=900.0), signal(sent=50, amount=600.0), signal(sent=0, amount=300.0)
    )
    assert falling["arrears_trend_eur_per_month"] == pytest.approx(-300.0 / 50 * DAYS_PER_MONTH)


@pytest.mark.parametrize(
    "rows",
    [
        [signal(sent=10, amount=500.0)],
        [signal(sent=10, amount=500.0), signal(partner="water", sent=10, amount=30.0)],
        [signal(sent=WINDOW_6M_DAYS + 5, amount=10.0), signal(sent=10, amount=500.0)],
    ],
    ids=["one signal", "two on one day", "one inside the six months"],
)
def test_trend_is_zero_without_two_signal_days_in_six_months(rows):
    assert features_of(*rows)["arrears_trend_eur_per_month"] == 0.0


# --------------------------------------------------------------------------------------------------------
# errors


def test_reference_household_missing_from_households_is_refused_naming_it():
    reference = reference_frame((ANNA, REFERENCE), (BERT, REFERENCE))
    with pytest.raises(DataValidationError, match=re.escape(MSG_UNKNOWN_HOUSEHOLD)) as raised:
        build_features(signals_frame(signal()), households_frame(ANNA), reference)
    message = str(raised.value)
    assert BERT in message and ANNA not in message
    assert raised.value.failures[0].column == "household_id"


def test_a_repeated_household_and_reference_date_is_refused():
    with pytest.raises(DataValidationError, match=re.escape(MSG_DUPLICATE_REFERENCE)) as raised:
        build_features(
            signals_frame(), households_frame(ANNA), reference_frame((ANNA, REFERENCE), (ANNA, REFERENCE))
        )
    assert raised.value.failures[0].rows == (1,)


def test_a_household_twice_in_the_households_table_is_refused():
    with pytest.raises(DataValidationError, match=re.escape(MSG_DUPLICATE_HOUSEHOLD)) as raised:
        build_features(signals_frame(), households_frame(ANNA, ANNA), reference_frame((ANNA, REFERENCE)))
    assert ANNA in str(raised.value)


def test_missing_columns_are_named():
    signals = signals_frame(signal()).drop(columns=["amount_eur", "crisis"])
    with pytest.raises(DataValidationError, match=re.escape(MSG_MISSING_COLUMNS)) as raised:
        build_features(signals, households_frame(ANNA), reference_frame((ANNA, REFERENCE)))
    assert {failure.column for failure in raised.value.failures} == {"amount_eur", "crisis"}
    assert all(failure.table == "signals" for failure in raised.value.failures)


def test_an_unreadable_reference_date_is_refused_with_its_row():
    reference = pd.DataFrame({"household_id": [ANNA, ANNA], "reference_date": ["2025-06-30", "not a date"]})
    with pytest.raises(DataValidationError, match=re.escape(MSG_BAD_DATES)) as raised:
        build_features(signals_frame(), households_frame(ANNA), reference)
    assert raised.value.failures[0].rows == (1,)


def test_dates_given_as_text_are_read():
    reference = pd.DataFrame({"household_id": [ANNA], "reference_date": ["2025-06-30"]})
    frame = build_features(signals_frame(signal(sent=3)), households_frame(ANNA), reference)
    assert frame.loc[0, "signals_3m"] == 1 and frame.loc[0, "reference_date"] == REFERENCE


# ----------------------------------------------------------------------------------------------------
# properties

HOUSEHOLDS = (ANNA, BERT, CHRIS)
COUNTS = [name for name in FEATURE_NAMES if name.startswith("signals_") or name.endswith("_signals_12m")]
NEVER_DECREASING = [*COUNTS, "distinct_partners_12m", "repeat_signals_6m", "max_arrears_eur",
                    "months_since_first_signal", "crisis_signal_3m", "end_of_supply_3m"]

signal_rows = st.builds(
    lambda household, partner, amount, sent, extra, crisis, eos: signal(
        household, partner, amount=amount, sent=sent, arrears_since=sent + extra, crisis=crisis,
        end_of_supply=eos,
    ),
    household=st.sampled_from(HOUSEHOLDS),
    partner=st.sampled_from(PartnerType.values()),
    amount=st.floats(0, 5_000, allow_nan=False).map(lambda x: round(x, 2)),
    sent=st.integers(-30, 600),
    extra=st.integers(0, 200),
    crisis=st.booleans(),
    eos=st.booleans(),
)


def build_for_every_household(rows: list[dict]) -> pd.DataFrame:
    references = [(h, REFERENCE) for h in HOUSEHOLDS] + [(h, days_before(45)) for h in HOUSEHOLDS]
    return build_features(signals_frame(*rows), households_frame(*HOUSEHOLDS), reference_frame(*references))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(signal_rows, max_size=12), extra=signal_rows)
def test_adding_a_signal_never_lowers_counts_largest_amount_or_history(rows, extra):
    before = build_for_every_household(rows)
    after = build_for_every_household([*rows, extra])
    assert (after[NEVER_DECREASING].to_numpy() >= before[NEVER_DECREASING].to_numpy()).all()


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(signal_rows, max_size=12), seed=st.integers(0, 2**16))
def test_the_order_of_the_signal_rows_does_not_matter(rows, seed):
    shuffled = list(np.random.default_rng(seed).permutation(len(rows))) if rows else []
    expected = build_for_every_household(rows)
    actual = build_for_every_household([rows[i] for i in shuffled])
    pd.testing.assert_frame_equal(actual, expected)


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(signal_rows, max_size=12))
def test_every_output_validates_against_the_feature_schema(rows):
    FeatureSchema.validate(build_for_every_household(rows), lazy=True)
