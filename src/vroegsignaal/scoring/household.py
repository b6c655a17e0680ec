"""The features of one household, without pandas: the service's low-latency path.

:func:`household_features` computes exactly what :func:`vroegsignaal.scoring.features.build_features` computes for a
single (household, reference date) — a property test holds the two together on random signal histories — but from
plain mappings, in microseconds instead of milliseconds. Use ``build_features`` for tables; use this for the few
households of one request. It takes no ``known_date``: every signal the service holds when it scores is known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from vroegsignaal.schemas.catalogue import MAX_AMOUNT_EUR, MAX_COUNT, MAX_MONTHS, MAX_TREND_EUR_PER_MONTH
from vroegsignaal.schemas.enums import partner_group
from vroegsignaal.schemas.tables import HOUSEHOLD_FLAG_COLUMNS
from vroegsignaal.scoring.features import (
    DAYS_PER_MONTH,
    PARTNER_GROUPS,
    REPEAT_LOOKBACK_DAYS,
    WINDOW_3M_DAYS,
    WINDOW_6M_DAYS,
    WINDOW_12M_DAYS,
)


#: Per partner group: the names of its count, amount and duration features (no duration for "other"), spelled out
#: once instead of on every call.
_GROUP_KEYS: tuple[tuple[str, str, str, str | None], ...] = tuple(
    (
        group,
        f"{group}_signals_12m",
        f"{group}_arrears_eur",
        f"{group}_arrears_months" if group != "other" else None,
    )
    for group in PARTNER_GROUPS
)


def _day(value: Any) -> int:
    """Calendar day number of a date, datetime or ISO string (time of day ignored)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    elif isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    elif hasattr(value, "date") and not isinstance(value, dt.date):  # pandas Timestamp
        value = value.date()
    return value.toordinal()


def _months(days: int) -> float:
    return min(max(days / DAYS_PER_MONTH, 0.0), MAX_MONTHS)


def household_features(
    signals: Sequence[Mapping[str, Any]], household: Mapping[str, Any], reference_date: Any
) -> dict[str, Any]:
    """The catalogue features of one household on ``reference_date`` (signals and facts as mappings).

    ``signals`` use the column names of :class:`~vroegsignaal.schemas.tables.SignalSchema`; ``household`` those of
    :class:`~vroegsignaal.schemas.tables.HouseholdSchema`. Signals after the reference date are ignored.
    """
    reference = _day(reference_date)
    prepared = sorted(
        (
            _day(s["signal_date"]),
            float(s["amount_eur"]),
            _day(s["arrears_start_date"]),
            str(s["partner_type"]),
            bool(s["crisis"]),
            bool(s["end_of_supply"]),
        )
        for s in signals
    )
    past = [s for s in prepared if reference - s[0] >= 0]
    in_3m = [s for s in past if reference - s[0] < WINDOW_3M_DAYS]
    in_6m = [s for s in past if reference - s[0] < WINDOW_6M_DAYS]
    in_12m = [s for s in past if reference - s[0] < WINDOW_12M_DAYS]

    features: dict[str, Any] = {
        "signals_3m": min(len(in_3m), MAX_COUNT),
        "signals_12m": min(len(in_12m), MAX_COUNT),
    }
    groups_12m = [partner_group(s[3]) for s in in_12m]
    latest: dict[str, tuple[int, float, int]] = {}
    counts: dict[str, int] = {}
    # Sorted by (day, amount, start): the last one wins.
    for (day, amount, start, _, _, _), group in zip(in_12m, groups_12m, strict=True):
        latest[group] = (day, amount, start)
        counts[group] = counts.get(group, 0) + 1
    for group, signals_key, _, _ in _GROUP_KEYS:
        features[signals_key] = min(counts.get(group, 0), MAX_COUNT)
    features["distinct_partners_12m"] = len({s[3] for s in in_12m})
    for group, _, arrears_key, months_key in _GROUP_KEYS:
        found = latest.get(group)
        features[arrears_key] = found[1] if found else 0.0
        if months_key is not None:
            features[months_key] = _months(reference - found[2]) if found else 0.0
    features["total_arrears_eur"] = min(sum(v[1] for v in latest.values()), MAX_AMOUNT_EUR)
    features["max_arrears_eur"] = min(max((s[1] for s in in_12m), default=0.0), MAX_AMOUNT_EUR)
    features["max_arrears_months"] = _months(reference - min(s[2] for s in in_12m)) if in_12m else 0.0
    features["months_since_first_signal"] = _months(reference - min(s[0] for s in past)) if past else 0.0
    features["repeat_signals_6m"] = min(sum(_is_repeat(s, prepared) for s in in_6m), MAX_COUNT)
    features["crisis_signal_3m"] = int(any(s[4] for s in in_3m))
    features["end_of_supply_3m"] = int(any(s[5] for s in in_3m))
    features["arrears_trend_eur_per_month"] = _trend(in_6m, reference)
    features["household_type"] = str(household["household_type"])
    features["benefit_type"] = str(household["benefit_type"])
    features["municipal_tax_arrears_eur"] = float(household["municipal_tax_arrears_eur"])
    for name in HOUSEHOLD_FLAG_COLUMNS:
        features[name] = int(bool(household[name]))
    return features


def _is_repeat(signal: tuple, signals: Sequence[tuple]) -> bool:
    """An earlier signal of the same partner type 1 to :data:`REPEAT_LOOKBACK_DAYS` days before this one."""
    day, partner = signal[0], signal[3]
    return any(other[3] == partner and 1 <= day - other[0] <= REPEAT_LOOKBACK_DAYS for other in signals)


def _trend(signals: Sequence[tuple], reference: int) -> float:
    """Least-squares slope of amount over signal day, in euro per month (0 without two distinct days)."""
    n = len(signals)
    xs = [float(s[0] - reference) for s in signals]
    ys = [s[1] for s in signals]
    sum_x, sum_y = sum(xs), sum(ys)
    denominator = n * sum(x * x for x in xs) - sum_x * sum_x
    if denominator <= 0:
        return 0.0
    slope = (n * sum(x * y for x, y in zip(xs, ys, strict=True)) - sum_x * sum_y) / denominator
    return min(max(slope * DAYS_PER_MONTH, -MAX_TREND_EUR_PER_MONTH), MAX_TREND_EUR_PER_MONTH)
