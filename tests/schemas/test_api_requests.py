"""Score requests refuse repeated households and signals, naming positions, never the identifiers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vroegsignaal.schemas.api import ScoreBatchRequest

HOUSEHOLD_A = "hh_aaaaaaaaaaaaaaaa"
HOUSEHOLD_B = "hh_bbbbbbbbbbbbbbbb"


def household(household_id: str, *signal_ids: str) -> dict:
    return {
        "household_id": household_id,
        "facts": {"household_type": "single", "benefit_type": "none"},
        "signals": [
            {
                "signal_id": signal_id,
                "partner_type": "rent",
                "amount_eur": 100.0,
                "arrears_start_date": "2026-01-01",
                "signal_date": "2026-02-01",
            }
            for signal_id in signal_ids
        ],
    }


def test_repeated_signal_id_is_named_by_position():
    households = [household(HOUSEHOLD_A, "sig-1"), household(HOUSEHOLD_B, "sig-1")]
    body = {"municipality_code": "GM0344", "households": households}
    with pytest.raises(ValidationError) as raised:
        ScoreBatchRequest.model_validate(body)
    message = str(raised.value)
    assert "households.0.signals.0 and households.1.signals.0" in message
    assert "sig-1" not in message.split("input_value")[0]


def test_repeated_household_is_named_by_position():
    households = [household(HOUSEHOLD_A, "s1"), household(HOUSEHOLD_A, "s2")]
    body = {"municipality_code": "GM0344", "households": households}
    with pytest.raises(ValidationError) as raised:
        ScoreBatchRequest.model_validate(body)
    assert "positions 0 and 1" in str(raised.value)
