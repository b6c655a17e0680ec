"""Load → validate → assemble: from the files a dataset config names to a typed :class:`Dataset`.

Validation is lazy and complete: every broken rule in every table is collected (column, check, count, example rows)
before one :class:`~vroegsignaal.errors.DataValidationError` is raised, so a data scientist fixes the data once. Direct
identifiers are refused first (BSN eleven-test, names, addresses, ...). Audit attributes are split off into their own
frame here and never rejoin the features.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from vroegsignaal.errors import DataValidationError, ValidationFailure
from vroegsignaal.schemas.catalogue import CATEGORICAL_FEATURES
from vroegsignaal.schemas.dataset_config import DatasetConfig, SensitiveAttribute
from vroegsignaal.schemas.identifiers import refuse_identifier_columns, safe_example
from vroegsignaal.schemas.tables import (
    MSG_NOT_ISO_DATE,
    MUNICIPALITY_PATTERN,
    AuditSchema,
    HouseholdSchema,
    OutcomeSchema,
    SignalSchema,
    TrueRiskSchema,
    iso_dates,
)
from vroegsignaal.scoring.features import build_features
from vroegsignaal.scoring.io import read_table
from vroegsignaal.scoring.preprocess import category_text, category_texts
from vroegsignaal.training.fairness_inputs import MISSING_GROUP

MSG_EMPTY_TABLE = "table has no rows"
MSG_MISSING_COLUMN = "column present"
MSG_ONE_CLASS = "label has two classes"
MSG_POSITIVE_ABSENT = "positive label value occurs"
MSG_UNKNOWN_HOUSEHOLD = "household exists in the households table"
MSG_UNMAPPED_VALUE = "value listed in the sensitive attribute's map"
MSG_OUTSIDE_BINS = "value inside the sensitive attribute's bins"
MSG_DUPLICATE_KEY = "id (and time) unique"
MSG_NOT_A_DATE = "parses as a date"
MSG_NOT_NUMERIC = "numeric"
MSG_NO_VALUES = "has at least one value"
MSG_PROBABILITY = "between 0 and 1"
MSG_NOT_FINITE = "a finite number (not infinity)"
MSG_AFTER_EXTRACTION = (
    "dated on or before {day}, the day the data was extracted (data.extracted_on; today when it is not set: "
    "set it for data whose calendar runs ahead, as a synthetic municipality's does; `vroegsignaal synth` writes it)"
)
MSG_LABEL_WINDOW_OPEN = (
    "label window ({days} days after the reference date, split.label_horizon_days) ended by {end}, the end "
    "of the data ({source})"
)
MSG_END_IS_NEWEST_DATE = "the newest date in the data; set data.extracted_on when it was extracted later"
MSG_OPEN_LABEL_WINDOWS_LEFT_OUT = (
    "outcomes: {count} of {rows} row(s) left out (reference dates {first} to {last}): they fail '{rule}', so "
    "their label is not known yet"
)
MSG_ONE_MUNICIPALITY = (
    "one municipality per household_id: a pseudonym is unique within its municipality only, so these rows' "
    "household_id stands for households of several municipalities and the tables would join them into one; give "
    "each municipality's households their own pseudonyms (for example prefixed with the municipality code)"
)
MSG_UNDECLARED_TEXT = (
    "numbers, or a category listed in 'categorical' (the column holds text; list it there if it is a category, or "
    "leave it out with 'features')"
)
MSG_FREE_TEXT = (
    "a category with few values ({distinct} distinct values in {rows} rows look like free text or an identifier; "
    "leave the column out with 'features')"
)
#: A categorical feature with more distinct values than this share of its rows (and more than
#: :data:`MIN_FREE_TEXT_VALUES`) is free text or an identifier, not a category.
MAX_CATEGORY_SHARE = 0.5
MIN_FREE_TEXT_VALUES = 50
MAX_EXAMPLES = 3
MAX_ROWS = 5

Layout = Literal["flat", "signals"]
SIGNAL_TABLES: dict[str, type[pa.DataFrameModel]] = {
    "signals": SignalSchema,
    "households": HouseholdSchema,
    "audit": AuditSchema,
    "outcomes": OutcomeSchema,
    "true_risk": TrueRiskSchema,
}
#: Columns whose values are never repeated in a message (they identify a household or a signal).
NO_ECHO_COLUMNS = frozenset({"household_id", "signal_id"})


@dataclass(frozen=True)
class RawData:
    """The tables as read from disk, before validation."""

    layout: Layout
    tables: Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class ValidationReport:
    """What validation saw: table sizes and warnings (failures raise instead); for a flat table also the features
    and categorical columns it resolved, so assembling does not check the table again."""

    tables: Mapping[str, Mapping[str, int]]
    warnings: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"tables": {k: dict(v) for k, v in self.tables.items()}, "failures": [], "warnings": list(self.warnings)}


@dataclass(frozen=True)
class Dataset:
    """The validated training data: features, label and audit attributes, kept apart.

    ``frame`` holds only the model features (in order); ``audit`` the banded audit attributes (strings) of the same
    rows; neither ever contains the other's columns.
    """

    frame: pd.DataFrame
    y: np.ndarray
    ids: np.ndarray
    times: np.ndarray | None
    audit: pd.DataFrame
    true_risk: np.ndarray | None
    feature_names: tuple[str, ...]
    categorical: tuple[str, ...]
    report: ValidationReport
    layout: Layout
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = set(self.frame.columns) & set(self.audit.columns)
        if clash:
            raise ValueError(f"audit attributes may never be features: {sorted(clash)}")
        if len(self.frame) != len(self.y) or len(self.audit) != len(self.y):
            raise ValueError("features, label and audit attributes must have the same rows")

    @property
    def rows(self) -> int:
        return len(self.y)

    @property
    def positives(self) -> int:
        return int(self.y.sum())


# --------------------------------------------------------------------------------------------------------------- load


def load_data(config: DatasetConfig) -> RawData:
    """Read the tables the config names, each csv file with the config's ``data.csv`` options."""
    source = config.data
    tables = {name: read_table(path, table=name, csv=source.csv) for name, path in source.tables.items()}
    return RawData("flat" if source.is_flat else "signals", tables)


# ------------------------------------------------------------------------------------------------------- validation


def _failure(
    table: str,
    column: str | None,
    check: str,
    positions: Sequence[int],
    examples: Sequence[Any] = (),
    *,
    count: int | None = None,
) -> ValidationFailure:
    # ValidationFailure makes each example safe to repeat (no identifier, name or free text).
    shown = () if column in NO_ECHO_COLUMNS else tuple(list(examples)[:MAX_EXAMPLES])
    rows = tuple(int(p) for p in list(positions)[:MAX_ROWS])
    return ValidationFailure(table, column, check, len(positions) if count is None else count, shown, rows)


def failures_from_schema_errors(table: str, error: pa.errors.SchemaErrors) -> list[ValidationFailure]:
    """One failure per (column, check) from pandera's failure cases, with counts and a few rows and values."""
    cases = error.failure_cases.copy()
    coerce_failed = uncoercible_columns(error)
    # Once a column cannot be coerced, pandera's other checks on it fail with a TypeError and its dtype check
    # repeats the coercion failure: both are noise beside the coercion failure itself.
    checks = cases["check"].astype(str)
    noise = cases["column"].isin(coerce_failed) & (
        cases["failure_case"].astype(str).str.startswith("TypeError(") | checks.str.startswith("dtype(")
    )
    # A table-wide check that reads a missing column fails with its KeyError, in no row: noise beside the missing
    # column itself.
    noise |= (cases["schema_context"] == "DataFrameSchema") & cases["failure_case"].astype(str).str.startswith(
        "KeyError("
    )
    cases = cases[~noise]
    failures = []
    # pandera reports a missing column (in the table's context or the column's, by version) with its name as the
    # failure case.
    missing_columns = checks.loc[cases.index] == "column_in_dataframe"
    for missing in cases.loc[missing_columns, "failure_case"].astype(str).unique():
        failures.append(_failure(table, missing, MSG_MISSING_COLUMN, [], count=1))
    cases = cases[~missing_columns]
    frame_checks = cases["schema_context"] == "DataFrameSchema"
    for check, group in cases[frame_checks].groupby("check", sort=False):
        rows = sorted({int(i) for i in group["index"].dropna()})
        failures.append(_failure(table, None, str(check), rows))
    for (column, check), group in cases[~frame_checks].groupby(["column", "check"], sort=False, dropna=False):
        rows = [int(i) for i in group["index"].dropna()]
        column_name = None if pd.isna(column) else str(column)
        failures.append(_failure(table, column_name, str(check), rows, list(group["failure_case"]), count=len(group)))
    return failures


def uncoercible_columns(error: pa.errors.SchemaErrors) -> set[str]:
    """Columns with values pandera could not coerce to the schema's type."""
    cases = error.failure_cases
    return set(cases.loc[cases["check"].astype(str).str.startswith("coerce_dtype"), "column"].dropna().astype(str))


def _validate_with_schema(
    table: str, frame: pd.DataFrame, schema: type[pa.DataFrameModel]
) -> tuple[pd.DataFrame, list[ValidationFailure]]:
    """Validate lazily. When some values cannot be coerced, pandera skips the other checks of that column, so the
    column is checked once more with those values blanked: a negative amount is reported even when another row of
    the same column holds text."""
    if frame.empty:
        return frame, [_failure(table, None, MSG_EMPTY_TABLE, [])]
    frame, not_iso, refused = _read_dates(table, frame, schema)
    try:
        validated = _yes_no_as_numpy_bool(schema.validate(frame, lazy=True), schema)
        if not not_iso:
            return validated, []
        return frame, not_iso
    except pa.errors.SchemaErrors as error:
        failures = not_iso + [
            kept
            for failure in failures_from_schema_errors(table, error)
            if (kept := _without_refused_dates(failure, refused)) is not None
        ]
        columns = uncoercible_columns(error) & set(frame.columns)
        if not columns:
            return frame, failures
    blanked = frame.copy()
    dtypes = schema.to_schema().dtypes
    for column in columns:
        kind = str(dtypes.get(column, ""))
        blanked[column] = (
            pd.to_datetime(blanked[column], errors="coerce")
            if "datetime" in kind
            else pd.to_numeric(blanked[column], errors="coerce")
        )
    try:
        schema.validate(blanked, lazy=True)
    except pa.errors.SchemaErrors as second:
        seen = {(f.column, f.check) for f in failures}
        for failure in failures_from_schema_errors(table, second):
            # the blanked values themselves show up as missing: already reported as uncoercible
            if failure.column in columns and "null" in failure.check:
                continue
            if (failure.column, failure.check) not in seen:
                failures.append(failure)
    return frame, failures


def _read_dates(
    table: str, frame: pd.DataFrame, schema: type[pa.DataFrameModel]
) -> tuple[pd.DataFrame, list[ValidationFailure], dict[str, frozenset[int]]]:
    """The schema's date columns read strictly as ISO 8601 (see :func:`iso_dates`); a value written otherwise is
    refused with its rows, and blanked so that no other check reads a guessed date. Also returns the blanked rows
    per column."""
    failures: list[ValidationFailure] = []
    refused: dict[str, frozenset[int]] = {}
    dates = [name for name, dtype in schema.to_schema().dtypes.items() if "datetime" in str(dtype)]
    frame = frame.copy()
    for column in (name for name in dates if name in frame.columns):
        written = frame[column]
        frame[column], bad = iso_dates(written)
        if bad.any():
            rows = np.flatnonzero(bad)
            refused[column] = frozenset(int(row) for row in rows)
            failures.append(_failure(table, column, MSG_NOT_ISO_DATE, rows, written.iloc[rows].unique()))
    return frame, failures, refused


def _without_refused_dates(
    failure: ValidationFailure, refused: Mapping[str, frozenset[int]]
) -> ValidationFailure | None:
    """A "missing" failure without the dates refused for their format (blanked, so missing now): ``None`` when
    those were all its rows; the values that really were missing stay reported."""
    blanked = refused.get(failure.column or "")
    if not blanked or "null" not in failure.check:
        return failure
    missing = failure.count - len(blanked)
    if missing <= 0:
        return None
    rows = tuple(row for row in failure.rows if row not in blanked)
    return ValidationFailure(failure.table, failure.column, failure.check, missing, failure.examples, rows)


def _yes_no_as_numpy_bool(frame: pd.DataFrame, schema: type[pa.DataFrameModel]) -> pd.DataFrame:
    """The schema's yes/no columns of a validated frame as plain ``bool``: the schemas use pandas' nullable boolean
    to refuse missing values; once validation passed none are left, and feature building gets the columns as before."""
    columns = schema.to_schema().columns
    flags = [name for name, column in columns.items() if isinstance(column.dtype.type, pd.BooleanDtype)]
    return frame.astype(dict.fromkeys(flags, bool)) if flags else frame


def _check_sensitive(
    table: str, frame: pd.DataFrame, attributes: Sequence[SensitiveAttribute]
) -> list[ValidationFailure]:
    failures = []
    for attribute in attributes:
        if attribute.column not in frame.columns:
            failures.append(_failure(table, attribute.column, MSG_MISSING_COLUMN, [], count=len(frame)))
            continue
        column = frame[attribute.column]
        if attribute.map is not None:
            # The canonical text of a code, as the grouping below reads it: a number-coded column with a blank is
            # float, and its 1.0 is the code "1".
            unmapped = column.notna() & ~category_texts(column).isin(list(attribute.map)).fillna(False)
            if unmapped.any():
                failures.append(
                    _failure(table, attribute.column, MSG_UNMAPPED_VALUE, np.flatnonzero(unmapped), column[unmapped].unique())
                )
        if attribute.bins is not None:
            values = pd.to_numeric(column, errors="coerce")
            bad = column.notna() & (values.isna() | (values < attribute.bins[0]) | (values > attribute.bins[-1]))
            if bad.any():
                failures.append(_failure(table, attribute.column, MSG_OUTSIDE_BINS, np.flatnonzero(bad), column[bad].unique()))
    return failures


def _check_label(table: str, frame: pd.DataFrame, config: DatasetConfig) -> list[ValidationFailure]:
    if config.label not in frame.columns:
        return [_failure(table, config.label, MSG_MISSING_COLUMN, [], count=len(frame))]
    label = frame[config.label]
    failures = []
    missing = label.isna()
    if missing.any():
        failures.append(_failure(table, config.label, MSG_NO_VALUES, np.flatnonzero(missing)))
    # Canonical text: a label read as float (1.0, 2.0, because of a blank) has the classes "1" and "2".
    classes = sorted(set(category_texts(label).dropna()))
    shown = ", ".join(str(safe_example(value)) for value in classes[:5])
    if len(classes) > 2:
        # Name the rows of the rarer classes: a stray value among two real ones is what needs fixing.
        texts = category_texts(label)
        counts = texts.value_counts()
        rare = set(counts.index[2:]) if len(counts) > 2 else set()
        rows = np.flatnonzero(texts.isin(rare).to_numpy(dtype=bool))
        failures.append(
            _failure(table, config.label, f"{MSG_ONE_CLASS} (found {len(classes)}: {shown})", rows,
                     sorted(rare, key=str))
        )
    elif len(classes) != 2:
        failures.append(
            ValidationFailure(table, config.label, f"{MSG_ONE_CLASS} (found {len(classes)}: {shown})", len(label))
        )
    elif _label_as_bool(label, config.positive) is None:
        failures.append(
            ValidationFailure(
                table, config.label, f"{MSG_POSITIVE_ABSENT} (positive={safe_example(config.positive)!r}; found {shown})",
                len(label),
            )
        )
    return failures


def _label_as_bool(label: pd.Series, positive: Any) -> np.ndarray | None:
    """The label as 0/1, matching the configured positive value by its canonical text (``2`` matches ``"2"`` and
    ``2.0``, ``True`` matches ``"True"``); ``None`` when no row has it."""
    text = category_texts(label).str.strip().str.lower()
    wanted = (category_text(positive) or "").strip().lower()
    matches = (text == wanted).fillna(False).to_numpy(dtype=bool)
    return matches.astype(np.int8) if matches.any() else None


def _check_flat(frame: pd.DataFrame, config: DatasetConfig) -> tuple[list[ValidationFailure], list[str], list[str], list[str]]:
    """Failures, warnings, feature list and categorical list of a flat table."""
    table = "data"
    failures: list[ValidationFailure] = []
    warnings: list[str] = []
    if frame.empty:
        return [_failure(table, None, MSG_EMPTY_TABLE, [])], warnings, [], []
    failures += _check_label(table, frame, config)
    for column in (config.id, config.time, config.true_risk):
        if column and column not in frame.columns:
            failures.append(_failure(table, column, MSG_MISSING_COLUMN, [], count=len(frame)))
    failures += _check_sensitive(table, frame, config.sensitive)
    features = config.resolve_features(frame.columns)
    categorical = list(config.categorical)
    for name in features:
        column = frame[name]
        if column.isna().all():
            failures.append(_failure(table, name, MSG_NO_VALUES, range(len(column))))
            continue
        if name in categorical:
            distinct = column.nunique(dropna=True)
            if distinct > MAX_CATEGORY_SHARE * len(column) and distinct > MIN_FREE_TEXT_VALUES:
                failures.append(_failure(table, name, MSG_FREE_TEXT.format(distinct=distinct, rows=len(column)), []))
            continue
        if pd.api.types.is_bool_dtype(column):
            continue
        if pd.api.types.is_numeric_dtype(column):
            infinite = np.isinf(column.to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                failures.append(_failure(table, name, MSG_NOT_FINITE, np.flatnonzero(infinite), column[infinite].unique()))
            continue
        numbers = pd.to_numeric(column, errors="coerce")
        infinite = np.isinf(numbers.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            failures.append(_failure(table, name, MSG_NOT_FINITE, np.flatnonzero(infinite), column[infinite].unique()))
            continue
        bad = numbers.isna() & column.notna()
        if not bad.any():  # numbers stored as text (a typed file's string column): they are numbers
            frame[name] = numbers
            warnings.append(f"feature '{name}' holds numbers stored as text: read as numbers")
            continue
        if name in config.monotone_increasing or name in config.monotone_decreasing or (bad.mean() < 0.5):
            failures.append(_failure(table, name, MSG_NOT_NUMERIC, np.flatnonzero(bad), column[bad].unique()))
        else:
            # Text is never taken in unasked: a caseworker's notes or a language level must not become a feature
            # because nobody listed the columns.
            failures.append(_failure(table, name, MSG_UNDECLARED_TEXT, np.flatnonzero(bad)))
    if config.time and config.time in frame.columns:
        written = frame[config.time]
        read, not_iso = iso_dates(written)
        parsed = pd.to_datetime(read, errors="coerce")
        if not_iso.any():
            failures.append(_failure(table, config.time, MSG_NOT_ISO_DATE, np.flatnonzero(not_iso), written[not_iso].unique()))
        bad = parsed.isna().to_numpy() & ~not_iso
        if bad.any():
            failures.append(_failure(table, config.time, MSG_NOT_A_DATE, np.flatnonzero(bad), written[bad].unique()))
        else:
            frame[config.time] = parsed
    if config.true_risk and config.true_risk in frame.columns:
        risk = pd.to_numeric(frame[config.true_risk], errors="coerce")
        bad = risk.isna() | (risk < 0) | (risk > 1)
        if bad.any():
            failures.append(_failure(table, config.true_risk, MSG_PROBABILITY, np.flatnonzero(bad), frame[config.true_risk][bad].unique()))
    key = [c for c in (config.id, config.time) if c and c in frame.columns]
    if config.id and key:
        duplicated = frame.duplicated(subset=key, keep=False)
        if duplicated.any():
            failures.append(_failure(table, ", ".join(key), MSG_DUPLICATE_KEY, np.flatnonzero(duplicated)))
    return failures, warnings, features, categorical


def _check_references(tables: Mapping[str, pd.DataFrame]) -> list[ValidationFailure]:
    households = tables.get("households")
    if households is None or "household_id" not in households.columns:
        return []
    # A hash index: Series.isin on Arrow-backed strings walks a Python list and takes seconds per million rows.
    known = pd.Index(households["household_id"].astype(str).unique())
    failures = []
    for name in ("signals", "outcomes", "audit", "true_risk"):
        frame = tables.get(name)
        if frame is None or "household_id" not in frame.columns:
            continue
        unknown = pd.Series(known.get_indexer(frame["household_id"].astype(str)) < 0, index=frame.index)
        if unknown.any():
            failures.append(_failure(name, "household_id", MSG_UNKNOWN_HOUSEHOLD, np.flatnonzero(unknown)))
    return failures


def _check_one_municipality(tables: Mapping[str, pd.DataFrame]) -> list[ValidationFailure]:
    """The rows whose ``household_id`` appears under more than one municipality code, in ``households`` and
    ``signals`` together: the tables join on the pseudonym alone, which two municipalities may both use.

    Data of several municipalities with their own pseudonyms is fine: a region's municipalities may pool their
    cases to train one model (a town gets a few hundred signals a year, too few to learn from), and the service
    keys households by municipality and pseudonym.
    """
    column = SignalSchema.municipality_code
    present = [tables[name][column] for name in ("households", "signals") if name in tables and column in tables[name]]
    if len(set().union(*(set(values.dropna().unique()) for values in present))) < 2:
        return []  # one municipality (the common case, quick on a million rows)
    codes: dict[str, tuple[pd.Series, pd.Series]] = {}
    for name in ("households", "signals"):
        frame = tables.get(name)
        if frame is not None and {column, "household_id"} <= set(frame.columns):
            text = frame[column].astype("string")
            # A malformed code is the schema's failure; counted here as well it would be reported twice.
            valid = text.where(text.str.fullmatch(MUNICIPALITY_PATTERN).fillna(False))
            codes[name] = (frame["household_id"].astype(str), valid)
    if not codes:
        return []
    pairs = pd.concat(
        [pd.DataFrame({"household_id": ids.to_numpy(), "code": values.to_numpy()}) for ids, values in codes.values()]
    ).dropna()
    per_household = pairs.groupby("household_id")["code"].nunique()
    shared = per_household.index[per_household > 1]
    failures = []
    for name, (ids, values) in codes.items():
        rows = (ids.isin(shared) & values.notna()).to_numpy(dtype=bool)
        if rows.any():
            failures.append(
                _failure(name, column, MSG_ONE_MUNICIPALITY, np.flatnonzero(rows), sorted(values[rows].unique()))
            )
    return failures


#: The dates of the signal tables that cannot lie after the day the data was extracted.
EXTRACTED_DATES: tuple[tuple[str, str], ...] = (
    ("signals", SignalSchema.signal_date),
    ("outcomes", OutcomeSchema.reference_date),
)


def _check_not_after_extraction(
    tables: Mapping[str, pd.DataFrame], extracted_on: dt.date | None
) -> list[ValidationFailure]:
    """Signals and reference dates after the day the data was extracted (today when the config does not say):
    a mistyped year or a planned date, never something that had happened."""
    day = extracted_on or dt.date.today()
    check = MSG_AFTER_EXTRACTION.format(day=day.isoformat())
    failures = []
    for name, column in EXTRACTED_DATES:
        frame = tables.get(name)
        if frame is None or column not in frame.columns:
            continue
        dates = pd.to_datetime(frame[column], errors="coerce")
        if dates.dt.tz is not None:  # a parquet column with a zone, not yet coerced when its table failed
            dates = dates.dt.tz_localize(None)  # the calendar date as written, as for csv (iso_dates)
        dates = dates.dt.normalize()
        later = (dates > pd.Timestamp(day)).to_numpy(dtype=bool)
        if later.any():
            days = sorted(dates[later].dt.date.unique())
            failures.append(_failure(name, column, check, np.flatnonzero(later), days))
    return failures


def _end_of_data(
    tables: Mapping[str, pd.DataFrame], extracted_on: dt.date | None
) -> tuple[pd.Timestamp, str]:
    """The day the data ends and where that day comes from: the config's ``data.extracted_on``, else the
    newest signal, known or reference date (the data was extracted no earlier, perhaps later)."""
    if extracted_on is not None:
        return pd.Timestamp(extracted_on), "data.extracted_on"
    signals, outcomes = tables["signals"], tables["outcomes"]
    dates = [outcomes[OutcomeSchema.reference_date], signals[SignalSchema.signal_date]]
    if SignalSchema.known_date in signals.columns:
        dates.append(signals[SignalSchema.known_date])
    newest = pd.to_datetime(pd.concat(dates, ignore_index=True)).max()
    return newest.normalize(), MSG_END_IS_NEWEST_DATE


def _without_open_label_windows(
    tables: Mapping[str, pd.DataFrame], config: DatasetConfig
) -> tuple[pd.DataFrame, list[str], list[ValidationFailure]]:
    """The outcome rows whose label window had ended by the end of the data, with a warning saying how many
    were left out and why; a failure instead when no row is left. A household's 'no' before its window ends
    is not known yet (it may still enter problematic debt): as a negative it would teach a wrong label."""
    outcomes = tables["outcomes"]
    end, source = _end_of_data(tables, config.data.extracted_on)
    days = config.split.label_horizon_days
    reference = pd.to_datetime(outcomes[OutcomeSchema.reference_date]).dt.normalize()
    still_open = (reference + pd.Timedelta(days=days) > end).to_numpy(dtype=bool)
    rule = MSG_LABEL_WINDOW_OPEN.format(days=days, end=end.date().isoformat(), source=source)
    if still_open.all():
        rows = np.flatnonzero(still_open)
        return outcomes, [], [_failure("outcomes", OutcomeSchema.reference_date, rule, rows)]
    if not still_open.any():
        return outcomes, [], []
    left_out = reference[still_open].dt.date
    warning = MSG_OPEN_LABEL_WINDOWS_LEFT_OUT.format(
        count=int(still_open.sum()), rows=len(outcomes), first=left_out.min(), last=left_out.max(), rule=rule
    )
    kept = outcomes[~still_open].reset_index(drop=True)
    if _label_as_bool(kept[config.label], config.positive) is None or kept[config.label].nunique() < 2:
        # The file has both classes (checked before), the rows whose window ended do not: say why.
        rows = np.flatnonzero(still_open)
        return outcomes, [], [_failure("outcomes", config.label, f"{MSG_ONE_CLASS}: {warning}", rows)]
    return kept, [warning], []


def validate_data(raw: RawData, config: DatasetConfig) -> tuple[RawData, ValidationReport]:
    """Validate every table; return the (coerced) tables and a report, or raise with *every* failure found."""
    allowed = {"household_id", "signal_id", "municipality_code", *([config.id] if config.id else [])}
    refuse_identifier_columns(raw.tables, allowed=allowed)
    failures: list[ValidationFailure] = []
    warnings: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    features: list[str] = []
    categorical: list[str] = []
    if raw.layout == "flat":
        frame = raw.tables["data"]
        flat_failures, warnings, features, categorical = _check_flat(frame, config)
        failures += flat_failures
        tables["data"] = frame
    else:
        for name, frame in raw.tables.items():
            validated, table_failures = _validate_with_schema(name, frame, SIGNAL_TABLES[name])
            tables[name] = validated
            failures += table_failures
        if config.sensitive and "audit" not in raw.tables:
            failures.append(ValidationFailure("audit", None, "audit table given for the sensitive attributes", 1))
        elif "audit" in raw.tables:
            failures += _check_sensitive("audit", raw.tables["audit"], config.sensitive)
        failures += _check_not_after_extraction(tables, config.data.extracted_on)
        if "outcomes" in tables and not tables["outcomes"].empty:
            outcomes = tables["outcomes"]
            if config.label not in outcomes.columns:
                failures.append(_failure("outcomes", config.label, MSG_MISSING_COLUMN, [], count=len(outcomes)))
            elif not any(f.table == "outcomes" and f.column == config.label for f in failures):
                # a label the schema refused (missing or unreadable values) would only be counted wrong here
                failures += _check_label("outcomes", outcomes, config)
        failures += _check_references(tables)
        failures += _check_one_municipality(tables)
        # Last, on data that holds otherwise: every failure above names rows of the files as they are.
        if not failures:
            tables["outcomes"], left_out, window_failures = _without_open_label_windows(tables, config)
            warnings += left_out
            failures += window_failures
    if failures:
        raise DataValidationError(failures, summary="the data does not meet the data contract")
    sizes = {name: {"rows": len(frame), "columns": frame.shape[1]} for name, frame in tables.items()}
    report = ValidationReport(sizes, tuple(warnings), tuple(features), tuple(categorical))
    return RawData(raw.layout, tables), report


# -------------------------------------------------------------------------------------------------------- assemble


def band_audit_attributes(frame: pd.DataFrame, attributes: Sequence[SensitiveAttribute]) -> pd.DataFrame:
    """Audit attributes as strings: continuous ones cut into bands, coded ones mapped to groups, missing 'unknown'."""
    out = {}
    for attribute in attributes:
        column = frame[attribute.column]
        if attribute.bins is not None:
            labels = attribute.labels or [
                f"{_edge(lo)}–{_edge(hi)}" for lo, hi in zip(attribute.bins[:-1], attribute.bins[1:], strict=True)
            ]
            values = pd.cut(pd.to_numeric(column, errors="coerce"), bins=attribute.bins, labels=labels, right=False, include_lowest=True)
            # the top edge is inclusive so that e.g. age 120 in bins [.., 120] has a band
            top = pd.to_numeric(column, errors="coerce") == attribute.bins[-1]
            grouped = values.astype("string").where(~top, labels[-1])
        elif attribute.map is not None:
            grouped = category_texts(column).map(attribute.map)
        else:
            grouped = category_texts(column)
        out[attribute.report_name] = grouped.fillna(MISSING_GROUP).astype(str).to_numpy()
    return pd.DataFrame(out, index=frame.index)


def _edge(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def assemble_dataset(raw: RawData, config: DatasetConfig, report: ValidationReport) -> Dataset:
    """Build the training rows: features (for signal data via the shared feature builder), label, audit, true risk."""
    if raw.layout == "flat":
        frame = raw.tables["data"].reset_index(drop=True)
        features, categorical = list(report.feature_names), list(report.categorical)
        ids = frame[config.id].astype(str).to_numpy() if config.id else np.arange(len(frame)).astype(str)
        times = pd.to_datetime(frame[config.time]).to_numpy() if config.time else None
        true_risk = frame[config.true_risk].to_numpy(dtype=float) if config.true_risk else None
        audit = band_audit_attributes(frame, config.sensitive)
        label = frame[config.label]
    else:
        outcomes = raw.tables["outcomes"].reset_index(drop=True)
        feature_frame = build_features(raw.tables["signals"], raw.tables["households"], outcomes[["household_id", "reference_date"]])
        features = config.resolve_features([c for c in feature_frame.columns if c not in ("household_id", "reference_date")])
        categorical = [c for c in features if c in config.categorical or c in CATEGORICAL_FEATURES]
        frame = feature_frame
        ids = outcomes["household_id"].astype(str).to_numpy()
        times = pd.to_datetime(outcomes["reference_date"]).to_numpy()
        if "audit" in raw.tables:
            audit_rows = outcomes[["household_id"]].merge(raw.tables["audit"], on="household_id", how="left")
            audit = band_audit_attributes(audit_rows, config.sensitive)
        else:
            audit = pd.DataFrame(index=outcomes.index)
        true_risk = None
        if "true_risk" in raw.tables:
            merged = outcomes[["household_id", "reference_date"]].merge(
                raw.tables["true_risk"], on=["household_id", "reference_date"], how="left"
            )
            true_risk = merged["true_risk"].to_numpy(dtype=float)
            if np.isnan(true_risk).any():
                raise DataValidationError(
                    [_failure("true_risk", "true_risk", "a row for every outcome", np.flatnonzero(np.isnan(true_risk)))],
                    summary="true_risk does not cover every outcome row",
                )
        label = outcomes[config.label]
    y = _label_as_bool(label, config.positive)
    if y is None:  # validated before; kept as a guard for direct callers
        raise DataValidationError([ValidationFailure("data", config.label, MSG_POSITIVE_ABSENT, len(label))])
    features_only = frame[features].reset_index(drop=True)
    for name in categorical:
        # Canonical text, not astype("string"): a number-coded column with a blank is float ("3.0") otherwise.
        features_only[name] = category_texts(features_only[name])
    leaks = label_leak_warnings(features_only, y, numeric=[name for name in features if name not in categorical])
    return Dataset(
        frame=features_only,
        y=y,
        ids=ids,
        times=times,
        audit=audit.reset_index(drop=True),
        true_risk=true_risk,
        feature_names=tuple(features),
        categorical=tuple(categorical),
        report=replace(report, warnings=(*report.warnings, *leaks)) if leaks else report,
        layout=raw.layout,
    )


#: A single feature that orders the rows by their label this well (AUC, either direction) is almost surely recorded
#: after the fact: a collection case opened, debt assistance started. The model would learn the outcome, not the risk.
LEAK_AUC = 0.97
MSG_LABEL_LEAK = (
    "feature '{name}' alone separates the label almost perfectly (AUC {auc:.3f}): check that it was known on the "
    "reference date and not recorded after it (the label leaking into the features)"
)


def label_leak_warnings(frame: pd.DataFrame, y: np.ndarray, *, numeric: Sequence[str]) -> list[str]:
    """A warning per numeric feature that alone nearly equals the label (see :data:`LEAK_AUC`)."""
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415 - only training needs it

    warnings = []
    if len(np.unique(y)) < 2:
        return warnings
    for name in numeric:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        known = ~np.isnan(values)
        if known.sum() < 20 or len(np.unique(y[known])) < 2 or len(np.unique(values[known])) < 2:
            continue
        auc = float(roc_auc_score(y[known], values[known]))
        strength = max(auc, 1.0 - auc)
        if strength >= LEAK_AUC:
            warnings.append(MSG_LABEL_LEAK.format(name=name, auc=strength))
    return warnings


def load_dataset(config: DatasetConfig) -> Dataset:
    """Load, validate and assemble in one call (what the pipeline and `vroegsignaal validate` use)."""
    raw, report = validate_data(load_data(config), config)
    return assemble_dataset(raw, config, report)
