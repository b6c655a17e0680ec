"""The pandas-free household path computes exactly what the table feature builder computes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vroegsignaal.schemas.enums import PartnerType
from vroegsignaal.scoring.features import build_features
from vroegsignaal.scoring.household import household_features

HOUSEHOLD = {
    "household_id": "hh_0123456789abcdef",
    "municipality_code": "GM0344",
    "household_type": "single_parent",
    "benefit_type": "social_assistance",
    "municipal_tax_arrears_eur": 120.5,
    "municipal_tax_remission": True,
    "prior_debt_assistance": False,
    "recent_move": True,
}
REFERENCE = dt.date(2025, 6, 30)


@st.composite
def signal_histories(draw):
    count = draw(st.integers(min_value=0, max_value=12))
    signals = []
    for i in range(count):
        signal_day = REFERENCE - dt.timedelta(days=draw(st.integers(min_value=-40, max_value=500)))
        start = signal_day - dt.timedelta(days=draw(st.integers(min_value=0, max_value=400)))
        partner = draw(st.sampled_from(PartnerType.values()))
        signals.append(
            {
                "signal_id": f"s{i}",
                "household_id": HOUSEHOLD["household_id"],
                "municipality_code": "GM0344",
                "partner_type": partner,
                "amount_eur": float(draw(st.integers(min_value=0, max_value=20_000))),
                "arrears_start_date": start,
                "signal_date": signal_day,
                "crisis": draw(st.booleans()),
                "warm_handover": False,
                "end_of_supply": partner in ("energy", "water") and draw(st.booleans()),
            }
        )
    return signals


def table_features(signals):
    columns = ["signal_id", "household_id", "municipality_code", "partner_type", "amount_eur", "arrears_start_date",
               "signal_date", "crisis", "warm_handover", "end_of_supply"]
    frame = pd.DataFrame(signals, columns=columns)
    for column in ("arrears_start_date", "signal_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame = frame.astype({"amount_eur": float, "crisis": bool, "end_of_supply": bool})
    reference = pd.DataFrame({"household_id": [HOUSEHOLD["household_id"]], "reference_date": [pd.Timestamp(REFERENCE)]})
    return build_features(frame, pd.DataFrame([HOUSEHOLD]), reference).iloc[0].to_dict()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signal_histories())
def test_household_features_equal_the_table_builder(signals):
    expected = table_features(signals)
    actual = household_features(signals, HOUSEHOLD, REFERENCE)
    for name, value in actual.items():
        assert value == pytest.approx(expected[name], abs=1e-9), name
    assert set(actual) == set(expected) - {"household_id", "reference_date"}


def test_future_signals_are_ignored():
    future = {
        "partner_type": "rent", "amount_eur": 900.0, "arrears_start_date": "2025-07-01", "signal_date": "2025-08-01",
        "crisis": True, "end_of_supply": False,
    }
    features = household_features([future], HOUSEHOLD, REFERENCE)
    assert features["signals_12m"] == 0 and features["crisis_signal_3m"] == 0
