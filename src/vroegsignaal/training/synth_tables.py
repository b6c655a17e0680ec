"""The tables of the synthetic municipality, in the shapes of :mod:`vroegsignaal.schemas.tables`, and its
pseudonyms.

Part of :mod:`vroegsignaal.training.synth`. Column names are read from the schema classes.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from vroegsignaal.schemas.tables import (
    AuditSchema,
    HouseholdSchema,
    OutcomeSchema,
    SignalSchema,
    TrueRiskSchema,
)
from vroegsignaal.training.synth_partners import (
    PARTNER_TYPES_BY_CODE,
    PartnerBook,
    SignalEvents,
    signal_amounts,
    warm_handover_flags,
)
from vroegsignaal.training.synth_world import (
    AGE_BANDS,
    BENEFIT_TYPES,
    GENDERS,
    HOUSEHOLD_TYPES,
    ORIGINS,
    Households,
)

#: Prefix of signal identifiers (a Vroegsignaal number); never digits only, so it cannot look like a BSN.
SIGNAL_ID_PREFIX = "VS"


def pseudonyms(n: int, *, seed: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct household pseudonyms: HMAC-SHA256 (hex) of synthetic 9-digit numbers under a synthetic
    key.

    The numbers are drawn to *fail* the BSN eleven-test, so none of them can be anyone's BSN; only their keyed
    hashes leave this function.
    """
    key = hashlib.sha256(f"vroegsignaal synthetic municipality key {seed}".encode()).digest()
    numbers = np.empty(0, dtype=np.int64)
    while len(numbers) < n:
        drawn = rng.integers(100_000_000, 1_000_000_000, size=int(1.2 * (n - len(numbers))) + 16)
        numbers = np.concatenate([numbers, drawn[~passes_eleven_test(drawn)]])
        _, first = np.unique(numbers, return_index=True)
        numbers = numbers[np.sort(first)]  # drop repeats, keep the order of drawing
    return np.array(
        [hmac.new(key, str(number).encode(), hashlib.sha256).hexdigest() for number in numbers[:n].tolist()],
        dtype=object,
    )


def passes_eleven_test(numbers: np.ndarray) -> np.ndarray:
    """The BSN eleven-test on an array of 9-digit numbers."""
    digits = (numbers[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])
    return (digits @ weights) % 11 == 0


def signal_table(
    events: SignalEvents,
    book: PartnerBook,
    ids: np.ndarray,
    codes: np.ndarray,
    signal_date: np.ndarray,
    arrears_start: np.ndarray,
    *,
    key: int,
) -> pd.DataFrame:
    """The signal table, ordered by signal date, household and partner, with numbered signal ids."""
    warm = warm_handover_flags(events, key=key)
    amounts = signal_amounts(events, book)
    order = np.lexsort((events.partner_code, events.household, signal_date))
    numbers = np.char.zfill(np.arange(1, len(order) + 1).astype(str), 10)
    households = events.household[order]
    return pd.DataFrame(
        {
            SignalSchema.household_id: _text(ids[households]),
            SignalSchema.signal_id: _text(np.char.add(SIGNAL_ID_PREFIX, numbers)),
            SignalSchema.municipality_code: _text(codes[households]),
            SignalSchema.partner_type: _text(np.asarray(PARTNER_TYPES_BY_CODE)[events.partner_code[order]]),
            SignalSchema.amount_eur: amounts[order],
            SignalSchema.arrears_start_date: arrears_start[order].astype("datetime64[ns]"),
            SignalSchema.signal_date: signal_date[order].astype("datetime64[ns]"),
            SignalSchema.crisis: events.crisis[order],
            SignalSchema.warm_handover: warm[order],
            SignalSchema.end_of_supply: events.end_of_supply[order],
        }
    )


def household_table(world: Households, ids: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    """The household facts a municipality holds (model features)."""
    return pd.DataFrame(
        {
            HouseholdSchema.household_id: _text(ids),
            HouseholdSchema.municipality_code: _text(codes),
            HouseholdSchema.household_type: _text(np.asarray(HOUSEHOLD_TYPES)[world.household_type]),
            HouseholdSchema.benefit_type: _text(np.asarray(BENEFIT_TYPES)[world.benefit_type]),
            HouseholdSchema.municipal_tax_arrears_eur: world.municipal_tax_arrears_eur,
            HouseholdSchema.municipal_tax_remission: world.municipal_tax_remission,
            HouseholdSchema.prior_debt_assistance: world.prior_debt_assistance,
            HouseholdSchema.recent_move: world.recent_move,
        }
    )


def audit_table(world: Households, ids: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    """The audit attributes; neighbourhoods get CBS wijk codes (WK + municipality digits + number)."""
    municipality_digits = np.char.lstrip(codes.astype(str), "GM")
    number = np.char.zfill((world.neighbourhood + 1).astype(str), 2)
    neighbourhood = np.char.add(np.char.add("WK", municipality_digits), number)
    return pd.DataFrame(
        {
            AuditSchema.household_id: _text(ids),
            AuditSchema.age_band: _text(np.asarray(AGE_BANDS)[world.age_band]),
            AuditSchema.gender: _text(np.asarray(GENDERS)[world.gender]),
            AuditSchema.origin: _text(np.asarray(ORIGINS)[world.origin]),
            AuditSchema.neighbourhood: _text(neighbourhood),
        }
    )


def outcome_tables(
    ids: np.ndarray, reference_dates: np.ndarray, recorded: np.ndarray, true_risk: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outcome table (the recorded label) and the true-risk table, row for row."""
    households = _text(ids)
    outcomes = pd.DataFrame(
        {
            OutcomeSchema.household_id: households,
            OutcomeSchema.reference_date: reference_dates,
            OutcomeSchema.problematic_debt_12m: recorded,
        }
    )
    risk = pd.DataFrame(
        {
            TrueRiskSchema.household_id: households.copy(),
            TrueRiskSchema.reference_date: reference_dates.copy(),
            TrueRiskSchema.true_risk: true_risk,
        }
    )
    return outcomes, risk


def _text(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")
