"""The one feature builder: arrears signals and household facts become one feature row per household and date.

Training and the service both call :func:`build_features`, so the features a model learns from and the
features it is scored on cannot drift apart. Each feature follows its ``description`` in the feature catalogue
(:mod:`vroegsignaal.schemas.catalogue`); the windows and the month length it uses are the constants below.

Rules that hold for every feature:

- Dates are compared by calendar day; a time of day is ignored.
- Only signals with ``signal_date <= reference_date`` count, so nothing leaks from the future; where the signals
  carry the optional ``known_date`` (the service's export does), only those known by the reference date too: a
  signal sent before a decision but received after it was not known when the household was scored. (Whether a
  signal repeats an earlier one of its partner type is read from the signal dates alone.)
- A window of *W* days holds the signals whose signal date lies 0 to *W* - 1 days before the reference date:
  the reference date itself and the *W* - 1 days before it.
- Months are days divided by :data:`DAYS_PER_MONTH`.
- "Latest signal of a group" is the one with the latest signal date; on the same date the larger amount wins
  (then the later arrears start date), so the order of the input rows never matters.
- A household without signals gets zeros for every signal feature; its household facts are still filled in.

The builder is vectorised over households (no Python loop per household) and works through the reference rows
in chunks, so a million reference rows take seconds and bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vroegsignaal.errors import DataValidationError, ValidationFailure
from vroegsignaal.schemas.catalogue import MAX_AMOUNT_EUR, MAX_COUNT, MAX_MONTHS, MAX_TREND_EUR_PER_MONTH
from vroegsignaal.schemas.enums import FEATURE_PARTNER_GROUPS, PartnerType, partner_group
from vroegsignaal.schemas.tables import (
    HOUSEHOLD_FACT_COLUMNS,
    HOUSEHOLD_FLAG_COLUMNS,
    FeatureSchema,
    HouseholdSchema,
    SignalSchema,
)

#: Length of a month in days (the mean Gregorian month), used for every "months" feature and the trend.
DAYS_PER_MONTH = 30.4375
#: Window lengths in days: "3 months", "6 months" and "12 months" up to and including the reference date.
WINDOW_3M_DAYS = 91
WINDOW_6M_DAYS = 182
WINDOW_12M_DAYS = 365
FEATURE_WINDOWS_DAYS: Mapping[str, int] = {"3m": WINDOW_3M_DAYS, "6m": WINDOW_6M_DAYS, "12m": WINDOW_12M_DAYS}
#: A signal is a repeat signal when the same partner type signalled 1 to this many days before it.
REPEAT_LOOKBACK_DAYS = 182

#: The partner groups with their own features, in feature order; every other partner type is "other".
PARTNER_GROUPS: tuple[str, ...] = (*(group.value for group in FEATURE_PARTNER_GROUPS), "other")
#: Columns of the output, in order: exactly the columns of the feature schema.
FEATURE_COLUMNS: tuple[str, ...] = tuple(FeatureSchema.to_schema().columns)

#: Upper bound on (reference row, signal) pairs held in memory at once; chunks of reference rows respect it.
MAX_PAIRS_PER_CHUNK = 2_000_000
#: Upper bound on reference rows per chunk, so households without signals do not make one huge chunk either.
MAX_ROWS_PER_CHUNK = 250_000

MSG_MISSING_COLUMNS = "cannot build features: required column(s) missing"
MSG_BAD_DATES = "cannot build features: dates missing or not readable as dates"
MSG_DUPLICATE_REFERENCE = "cannot build features: the same household and reference date appear more than once"
MSG_DUPLICATE_HOUSEHOLD = "cannot build features: a household appears more than once in the households table"
MSG_UNKNOWN_HOUSEHOLD = "cannot build features: reference household(s) have no row in the households table"

CHECK_COLUMN_PRESENT = "column_present"
CHECK_VALID_DATE = "valid_date"
CHECK_UNIQUE_REFERENCE = "unique_household_and_reference_date"
CHECK_UNIQUE_HOUSEHOLD = "unique_household"
CHECK_KNOWN_HOUSEHOLD = "household_in_households_table"
#: How many offending pseudonyms or rows an error message names.
MAX_EXAMPLES = 5

_SIGNAL_COLUMNS = (
    SignalSchema.household_id,
    SignalSchema.partner_type,
    SignalSchema.amount_eur,
    SignalSchema.arrears_start_date,
    SignalSchema.signal_date,
    SignalSchema.crisis,
    SignalSchema.end_of_supply,
)
_HOUSEHOLD_COLUMNS = (HouseholdSchema.household_id, *HOUSEHOLD_FACT_COLUMNS)
_REFERENCE_COLUMNS = (FeatureSchema.household_id, FeatureSchema.reference_date)
_PARTNER_CODES = {partner: code for code, partner in enumerate(PartnerType.values())}
_GROUP_CODES = {group: code for code, group in enumerate(PARTNER_GROUPS)}
_N_GROUPS = len(PARTNER_GROUPS)
_NO_DAY = np.iinfo(np.int64).max


def build_features(signals: pd.DataFrame, households: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Build the model's features for every (household, reference date) of ``reference``.

    Parameters
    ----------
    signals
        Arrears signals (:class:`~vroegsignaal.schemas.tables.SignalSchema`); only signals of households in
        ``reference`` and dated on or before the reference date are used.
    households
        Household facts (:class:`~vroegsignaal.schemas.tables.HouseholdSchema`), one row per household.
    reference
        ``household_id`` and ``reference_date``: the rows to build, each pair at most once.

    Returns
    -------
    pandas.DataFrame
        One row per reference row, in the same order and with the same index, with exactly the columns of
        :class:`~vroegsignaal.schemas.tables.FeatureSchema` in its dtypes; it validates against that schema.

    Raises
    ------
    DataValidationError
        When a required column is missing, a date is missing or unreadable, a (household, reference date) pair
        repeats, a household repeats in ``households``, or a reference household has no household facts. The
        message names the table, column and rule, and a few offending pseudonyms or row positions.
    """
    _require_columns(signals, _SIGNAL_COLUMNS, table="signals")
    _require_columns(households, _HOUSEHOLD_COLUMNS, table="households")
    _require_columns(reference, _REFERENCE_COLUMNS, table="reference")
    keys = _HouseholdKeys.of(reference, households, signals)
    reference_dates = _dates_or_raise(reference[FeatureSchema.reference_date], table="reference")
    _check_unique_reference(keys, reference_dates)
    facts = _household_facts_or_raise(households, keys)

    prepared = _prepare_signals(signals, keys)
    reference_days = _days(reference_dates)
    signal_counts = prepared.ends - prepared.starts
    chunks = [
        _signal_features(prepared, keys.reference[rows], reference_days[rows])
        for rows in _chunks(signal_counts[keys.reference])
    ]
    names = chunks[0].keys() if chunks else ()
    columns = {name: np.concatenate([chunk[name] for chunk in chunks]) for name in names}
    return _assemble(reference, keys, reference_dates, columns, facts)


@dataclass(frozen=True)
class _HouseholdKeys:
    """Integer codes of the household pseudonyms of the three tables, from one factorisation.

    Hashing every pseudonym once is what keeps a million rows fast; the codes index ``pseudonyms``.
    """

    pseudonyms: pd.Index
    reference: np.ndarray
    households: np.ndarray
    signals: np.ndarray

    @classmethod
    def of(cls, reference: pd.DataFrame, households: pd.DataFrame, signals: pd.DataFrame) -> _HouseholdKeys:
        parts = [
            reference[FeatureSchema.household_id],
            households[HouseholdSchema.household_id],
            signals[SignalSchema.household_id],
        ]
        together = pd.concat([part.astype("str") for part in parts], ignore_index=True)
        codes, pseudonyms = pd.factorize(together)
        ends = np.cumsum([len(part) for part in parts])
        return cls(pd.Index(pseudonyms), codes[: ends[0]], codes[ends[0] : ends[1]], codes[ends[1] :])

    @property
    def size(self) -> int:
        return len(self.pseudonyms)


@dataclass(frozen=True)
class _PreparedSignals:
    """Signals of the reference households as arrays, sorted by household, signal day, amount and start day.

    ``starts[h]:ends[h]`` is the slice of household code ``h``; ``is_repeat`` is a property of the signal
    alone (an earlier signal of the same partner type 1 to :data:`REPEAT_LOOKBACK_DAYS` days before it), so it
    holds for every reference date on or after the signal.
    """

    day: np.ndarray
    #: The first day the signal counts: its known date when the signals say, else its signal day.
    known_day: np.ndarray
    start_day: np.ndarray
    amount: np.ndarray
    group: np.ndarray
    partner: np.ndarray
    crisis: np.ndarray
    end_of_supply: np.ndarray
    is_repeat: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def _prepare_signals(signals: pd.DataFrame, keys: _HouseholdKeys) -> _PreparedSignals:
    wanted = np.zeros(keys.size, dtype=bool)
    wanted[keys.reference] = True
    keep = wanted[keys.signals]
    codes = keys.signals[keep]
    signal_days = _days(_dates_or_raise(signals[SignalSchema.signal_date], table="signals"))
    day = signal_days[keep]
    known_day = _known_days(signals, signal_days)[keep]
    start_day = _days(_dates_or_raise(signals[SignalSchema.arrears_start_date], table="signals"))[keep]
    amount = signals[SignalSchema.amount_eur].to_numpy(dtype=np.float64)[keep]
    partner_codes, partner_values = pd.factorize(signals[SignalSchema.partner_type].astype("str"))
    # An unknown partner type is refused by the signal schema upstream; here it simply counts as "other".
    other = _PARTNER_CODES[PartnerType.OTHER]
    kept_codes = partner_codes[keep]
    partner = np.array([_PARTNER_CODES.get(v, other) for v in partner_values], dtype=np.int64)[kept_codes]
    group = np.array([_GROUP_CODES[partner_group(v)] for v in partner_values], dtype=np.int64)[kept_codes]
    first_day = int(day.min()) if len(day) else 0
    day_span = int(day.max()) - first_day + 1 if len(day) else 1
    household_day = codes * day_span + (day - first_day)
    order = np.lexsort((start_day, amount, household_day))
    codes = codes[order]
    every_household = np.arange(keys.size)
    return _PreparedSignals(
        day=day[order],
        known_day=known_day[order],
        start_day=start_day[order],
        amount=amount[order],
        group=group[order],
        partner=partner[order],
        crisis=signals[SignalSchema.crisis].to_numpy(dtype=bool)[keep][order],
        end_of_supply=signals[SignalSchema.end_of_supply].to_numpy(dtype=bool)[keep][order],
        is_repeat=_repeat_flags(codes, partner[order], day[order] - first_day, day_span),
        starts=np.searchsorted(codes, every_household, side="left"),
        ends=np.searchsorted(codes, every_household, side="right"),
    )


def _known_days(signals: pd.DataFrame, signal_days: np.ndarray) -> np.ndarray:
    """The first day each signal counts (``known_date``), never before its signal day; the signal day where the
    signals do not say."""
    if SignalSchema.known_date not in signals.columns:
        return signal_days
    known = pd.to_datetime(signals[SignalSchema.known_date], errors="coerce")
    if getattr(known.dt, "tz", None) is not None:
        known = known.dt.tz_localize(None)
    days = known.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    given = ~np.isnat(days)
    return np.where(given, np.maximum(days.astype(np.int64, copy=False), signal_days), signal_days)


def _repeat_flags(codes: np.ndarray, partner: np.ndarray, day: np.ndarray, day_span: int) -> np.ndarray:
    """Whether each signal had a signal of the same household and partner type 1 to 182 days before it.

    ``day`` counts from 0 and stays below ``day_span``.
    """
    n = len(day)
    series = codes * len(_PARTNER_CODES) + partner
    order = np.argsort(series * day_span + day, kind="stable")
    s, d = series[order], day[order]
    same_series = np.zeros(n, dtype=bool)
    same_series[1:] = s[1:] == s[:-1]
    new_day = ~same_series
    new_day[1:] |= d[1:] != d[:-1]
    # The nearest earlier day of the same series sits just before the first signal of this day: the closest
    # earlier signal decides whether any earlier signal lies within the look-back.
    first_of_day = np.maximum.accumulate(np.where(new_day, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    previous = first_of_day - 1
    has_previous = (previous >= 0) & same_series[first_of_day]
    gap = d - d[np.maximum(previous, 0)]
    repeat = np.empty(n, dtype=bool)
    repeat[order] = has_previous & (gap <= REPEAT_LOOKBACK_DAYS)
    return repeat


def _chunks(pairs_per_row: np.ndarray) -> Iterator[slice]:
    """Consecutive row slices holding at most ``MAX_PAIRS_PER_CHUNK`` pairs (at least one row each)."""
    n = len(pairs_per_row)
    cumulative = np.cumsum(pairs_per_row)
    start = 0
    while start < n:
        already = cumulative[start - 1] if start else 0
        by_pairs = int(np.searchsorted(cumulative, already + MAX_PAIRS_PER_CHUNK, side="right"))
        stop = min(max(by_pairs, start + 1), start + MAX_ROWS_PER_CHUNK, n)
        yield slice(start, stop)
        start = stop


def _signal_features(
    prepared: _PreparedSignals, codes: np.ndarray, reference_days: np.ndarray
) -> dict[str, np.ndarray]:
    """Every signal feature for one chunk of reference rows (pairs every row with its household's signals)."""
    m = len(codes)
    counts = prepared.ends[codes] - prepared.starts[codes]
    row = np.repeat(np.arange(m), counts)
    offsets = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    sig = np.repeat(prepared.starts[codes], counts) + offsets
    age = reference_days[row] - prepared.day[sig]
    past = (age >= 0) & (prepared.known_day[sig] <= reference_days[row])
    row, sig, age = row[past], sig[past], age[past]

    in_3m = age < WINDOW_3M_DAYS
    in_6m = age < WINDOW_6M_DAYS
    in_12m = age < WINDOW_12M_DAYS
    features: dict[str, np.ndarray] = {
        "signals_3m": _count(row[in_3m], m),
        "signals_12m": _count(row[in_12m], m),
    }
    row12, sig12 = row[in_12m], sig[in_12m]
    group_keys = row12 * _N_GROUPS + prepared.group[sig12]
    per_group = np.bincount(group_keys, minlength=m * _N_GROUPS).reshape(m, _N_GROUPS)
    for code, group in enumerate(PARTNER_GROUPS):
        features[f"{group}_signals_12m"] = np.minimum(per_group[:, code], MAX_COUNT)
    partner_bits = np.zeros(m, dtype=np.int64)
    np.bitwise_or.at(partner_bits, row12, np.left_shift(1, prepared.partner[sig12]))
    features["distinct_partners_12m"] = np.bitwise_count(partner_bits).astype(np.int64)

    latest_amounts, latest_months = _latest_per_group(prepared, row, sig, in_12m, reference_days, m)
    for code, group in enumerate(PARTNER_GROUPS):
        features[f"{group}_arrears_eur"] = latest_amounts[:, code]
        if group != "other":
            features[f"{group}_arrears_months"] = latest_months[:, code]
    features["total_arrears_eur"] = np.minimum(latest_amounts.sum(axis=1), MAX_AMOUNT_EUR)
    largest = np.zeros(m)
    np.maximum.at(largest, row12, prepared.amount[sig12])
    features["max_arrears_eur"] = np.minimum(largest, MAX_AMOUNT_EUR)
    earliest_start = _earliest(row12, prepared.start_day[sig12], m)
    features["max_arrears_months"] = _months_since(earliest_start, reference_days)
    first_signal = _earliest(row, prepared.day[sig], m)
    features["months_since_first_signal"] = _months_since(first_signal, reference_days)
    features["repeat_signals_6m"] = _count(row[in_6m & prepared.is_repeat[sig]], m)
    features["crisis_signal_3m"] = _any(row[in_3m & prepared.crisis[sig]], m)
    features["end_of_supply_3m"] = _any(row[in_3m & prepared.end_of_supply[sig]], m)
    features["arrears_trend_eur_per_month"] = _trend(row[in_6m], age[in_6m], prepared.amount[sig[in_6m]], m)
    return features


def _count(rows: np.ndarray, m: int) -> np.ndarray:
    return np.minimum(np.bincount(rows, minlength=m), MAX_COUNT).astype(np.int64)


def _any(rows: np.ndarray, m: int) -> np.ndarray:
    return (np.bincount(rows, minlength=m) > 0).astype(np.int64)


def _earliest(rows: np.ndarray, days: np.ndarray, m: int) -> np.ndarray:
    earliest = np.full(m, _NO_DAY, dtype=np.int64)
    np.minimum.at(earliest, rows, days)
    return earliest


def _months_since(days: np.ndarray, reference_days: np.ndarray) -> np.ndarray:
    """Months from ``days`` to the reference day; 0 where there is no day (``_NO_DAY``)."""
    known = days != _NO_DAY
    months = np.where(known, (reference_days - np.where(known, days, 0)) / DAYS_PER_MONTH, 0.0)
    return np.clip(months, 0.0, MAX_MONTHS)


def _latest_per_group(
    prepared: _PreparedSignals,
    row: np.ndarray,
    sig: np.ndarray,
    in_window: np.ndarray,
    reference_days: np.ndarray,
    m: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Amount and arrears months of the latest signal per row and partner group inside the window."""
    # Pairs of a row come in the household's signal order (day, amount, start day), so the highest pair
    # position within (row, group) is the latest signal under the documented tie-break.
    positions = np.flatnonzero(in_window)
    keys = row[positions] * _N_GROUPS + prepared.group[sig[positions]]
    latest = np.full(m * _N_GROUPS, -1, dtype=np.int64)
    np.maximum.at(latest, keys, positions)
    found = latest >= 0
    latest_sig = sig[latest[found]]
    amounts = np.zeros(m * _N_GROUPS)
    amounts[found] = prepared.amount[latest_sig]
    start_days = np.full(m * _N_GROUPS, _NO_DAY, dtype=np.int64)
    start_days[found] = prepared.start_day[latest_sig]
    months = _months_since(start_days, np.repeat(reference_days, _N_GROUPS))
    return amounts.reshape(m, _N_GROUPS), months.reshape(m, _N_GROUPS)


def _trend(rows: np.ndarray, age_days: np.ndarray, amounts: np.ndarray, m: int) -> np.ndarray:
    """Least-squares slope of amount over signal date per row, in euro per month (0 without two distinct
    days)."""
    x = -age_days.astype(np.float64)  # days relative to the reference date, increasing with time
    n = np.bincount(rows, minlength=m).astype(np.float64)
    sum_x = np.bincount(rows, weights=x, minlength=m)
    sum_y = np.bincount(rows, weights=amounts, minlength=m)
    sum_xy = np.bincount(rows, weights=x * amounts, minlength=m)
    sum_xx = np.bincount(rows, weights=x * x, minlength=m)
    # x holds whole days, so the denominator is computed exactly: it is 0 precisely when all days are equal.
    denominator = n * sum_xx - sum_x * sum_x
    spread = denominator > 0
    slope_per_day = np.where(spread, (n * sum_xy - sum_x * sum_y) / np.where(spread, denominator, 1.0), 0.0)
    return np.clip(slope_per_day * DAYS_PER_MONTH, -MAX_TREND_EUR_PER_MONTH, MAX_TREND_EUR_PER_MONTH)


def _assemble(
    reference: pd.DataFrame,
    keys: _HouseholdKeys,
    reference_dates: pd.Series,
    signal_columns: Mapping[str, np.ndarray],
    facts: pd.DataFrame,
) -> pd.DataFrame:
    m = len(reference)
    data: dict[str, object] = {
        FeatureSchema.household_id: pd.array(keys.pseudonyms[keys.reference], dtype="str"),
        FeatureSchema.reference_date: reference_dates.to_numpy(dtype="datetime64[ns]"),
    }
    for name in FEATURE_COLUMNS[2:]:
        if name in facts.columns:
            data[name] = facts[name].to_numpy()
        elif name in signal_columns:
            data[name] = signal_columns[name]
        else:  # no reference rows at all: an empty column of the schema's dtype
            data[name] = np.zeros(m, dtype=_empty_dtype(name))
    frame = pd.DataFrame(data, index=reference.index)
    for name in (FeatureSchema.household_type, FeatureSchema.benefit_type):
        frame[name] = frame[name].astype("str")
    return frame[list(FEATURE_COLUMNS)]


def _empty_dtype(name: str) -> str:
    return "int64" if str(FeatureSchema.to_schema().columns[name].dtype) == "int64" else "float64"


def _household_facts_or_raise(households: pd.DataFrame, keys: _HouseholdKeys) -> pd.DataFrame:
    """Household facts aligned with the reference rows (flags as 0/1), refusing unknown and repeated
    households."""
    rows_per_household = np.bincount(keys.households, minlength=keys.size)
    repeated = np.flatnonzero(rows_per_household > 1)
    if len(repeated):
        raise DataValidationError(
            [_failure("households", CHECK_UNIQUE_HOUSEHOLD, keys, repeated)],
            summary=MSG_DUPLICATE_HOUSEHOLD,
        )
    row_of_household = np.full(keys.size, -1, dtype=np.int64)
    row_of_household[keys.households] = np.arange(len(keys.households))
    positions = row_of_household[keys.reference]
    unknown = pd.unique(keys.reference[positions < 0])
    if len(unknown):
        raise DataValidationError(
            [_failure("reference", CHECK_KNOWN_HOUSEHOLD, keys, unknown)],
            summary=MSG_UNKNOWN_HOUSEHOLD,
        )
    tax_arrears = households[HouseholdSchema.municipal_tax_arrears_eur].to_numpy(dtype=np.float64)
    facts = pd.DataFrame(
        {
            name: households[name].astype(str).to_numpy()[positions]
            for name in (HouseholdSchema.household_type, HouseholdSchema.benefit_type)
        }
    )
    facts[HouseholdSchema.municipal_tax_arrears_eur] = tax_arrears[positions]
    for name in HOUSEHOLD_FLAG_COLUMNS:
        facts[name] = households[name].to_numpy(dtype=bool)[positions].astype(np.int64)
    return facts


def _check_unique_reference(keys: _HouseholdKeys, dates: pd.Series) -> None:
    pairs = pd.DataFrame({"household": keys.reference, "date": dates.to_numpy()})
    repeated = pairs.duplicated(keep="first").to_numpy()
    if repeated.any():
        rows = np.flatnonzero(repeated)
        raise DataValidationError(
            [
                ValidationFailure(
                    "reference",
                    f"{FeatureSchema.household_id}, {FeatureSchema.reference_date}",
                    CHECK_UNIQUE_REFERENCE,
                    len(rows),
                    examples=_pseudonyms(keys, pd.unique(keys.reference[rows])),
                    rows=_positions(rows),
                )
            ],
            summary=MSG_DUPLICATE_REFERENCE,
        )


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], *, table: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataValidationError(
            [ValidationFailure(table, column, CHECK_COLUMN_PRESENT, len(frame)) for column in missing],
            summary=MSG_MISSING_COLUMNS,
        )


def _dates_or_raise(values: pd.Series, *, table: str) -> pd.Series:
    """The column as datetimes; missing or unreadable dates are refused with their row positions."""
    if pd.api.types.is_datetime64_any_dtype(values) and values.dt.tz is None:
        parsed = values
    else:
        parsed = pd.to_datetime(values, errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataValidationError(
            [
                ValidationFailure(
                    table, str(values.name), CHECK_VALID_DATE, len(rows), rows=_positions(rows)
                )
            ],
            summary=MSG_BAD_DATES,
        )
    return parsed


def _days(dates: pd.Series) -> np.ndarray:
    """Calendar day numbers (days since 1970-01-01) of a datetime column."""
    return dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _pseudonyms(keys: _HouseholdKeys, codes: np.ndarray) -> tuple[str, ...]:
    """A few pseudonyms for a message (pseudonyms only: never anything that identifies a person directly)."""
    return tuple(str(keys.pseudonyms[code]) for code in codes[:MAX_EXAMPLES])


def _failure(table: str, check: str, keys: _HouseholdKeys, codes: np.ndarray) -> ValidationFailure:
    """A failure of the household_id column naming a few of the offending pseudonyms."""
    examples = _pseudonyms(keys, codes)
    return ValidationFailure(table, FeatureSchema.household_id, check, len(codes), examples=examples)


def _positions(rows: np.ndarray) -> tuple[int, ...]:
    """A few row positions for a message."""
    return tuple(int(row) for row in rows[:MAX_EXAMPLES])
