"""One numeric encoding of the feature table, shared by training and scoring.

The model is trained and scored on the same float matrix: numeric features as floats, categorical features as the
index of their level in the training levels (LightGBM's categorical codes), unseen levels as missing. The training
ranges recorded here let the scorer flag input outside what the model has seen (out of distribution).

A level is matched by its canonical text (:func:`category_text`), so a code means the same whether it arrives as 3,
3.0 (read_csv makes a number-coded column with a blank float) or "3".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from vroegsignaal.errors import DataValidationError, ValidationFailure

MSG_MISSING_FEATURES = "missing model feature column(s)"
MSG_NOT_NUMERIC = "expected numbers"

# Whole floats up to here are exact integers; beyond it a float's text is kept as Python writes it.
_LARGEST_EXACT_INTEGER = 2.0**53
# How ``str`` wrote a whole float: the text older bundles stored for a number-coded column with a blank.
_WHOLE_FLOAT_TEXT = re.compile(r"-?\d+\.0")
_FLOATS = (float, np.floating)
_BOOLEANS = (bool, np.bool_)
_INTEGERS = (int, np.integer)
#: Types whose ``float()`` is the number itself (NaN stays NaN): no check for a missing value needed.
_PLAIN_NUMBERS = (int, float)
_NA, _NAT = pd.NA, pd.NaT


@dataclass(frozen=True)
class NumericRange:
    """What the model saw of a numeric feature in training."""

    minimum: float
    maximum: float
    q01: float
    q99: float
    missing_seen: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "minimum": self.minimum,
            "maximum": self.maximum,
            "q01": self.q01,
            "q99": self.q99,
            "missing_seen": self.missing_seen,
        }


@dataclass(frozen=True)
class Encoded:
    """Features as the model reads them, plus where a categorical level was never seen in training."""

    matrix: np.ndarray
    unseen: np.ndarray


@dataclass(frozen=True)
class FeaturePreprocessor:
    """Turns a feature table into the model's float matrix and knows the training ranges."""

    feature_names: tuple[str, ...]
    categorical_levels: Mapping[str, tuple[str, ...]]
    numeric_ranges: Mapping[str, NumericRange]

    def __post_init__(self) -> None:
        unknown = set(self.categorical_levels) - set(self.feature_names)
        if unknown:
            raise ValueError(f"categorical levels for non-features: {sorted(unknown)}")

    @classmethod
    def fit(cls, frame: pd.DataFrame, *, feature_names: Sequence[str], categorical: Sequence[str]) -> FeaturePreprocessor:
        """Learn levels and ranges from the training rows."""
        check_columns(frame, feature_names, table="training data")
        levels: dict[str, tuple[str, ...]] = {}
        ranges: dict[str, NumericRange] = {}
        for name in feature_names:
            column = frame[name]
            if name in categorical:
                _, texts = _factorize_category_texts(column)
                levels[name] = tuple(sorted({text for text in texts if text is not None}))
                continue
            values = numeric_column(column, name=name, table="training data")
            present = values[~np.isnan(values)]
            if present.size == 0:
                raise DataValidationError(
                    [ValidationFailure("training data", name, "has at least one value", int(values.size))],
                    summary="a feature has no values in the training rows",
                )
            ranges[name] = NumericRange(
                minimum=float(present.min()),
                maximum=float(present.max()),
                q01=float(np.quantile(present, 0.01)),
                q99=float(np.quantile(present, 0.99)),
                missing_seen=bool(present.size < values.size),
            )
        return cls(tuple(feature_names), levels, ranges)

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, name in enumerate(self.feature_names) if name in self.categorical_levels]

    def encode(self, frame: pd.DataFrame) -> Encoded:
        """The model's float matrix for ``frame`` (rows in order) and where a categorical level was never seen."""
        check_columns(frame, self.feature_names, table="input")
        out = np.empty((len(frame), len(self.feature_names)), dtype=np.float64)
        unseen = np.zeros(out.shape, dtype=bool)
        for j, name in enumerate(self.feature_names):
            column = frame[name]
            if name in self.categorical_levels:
                # Canonical text per distinct value, not per row: a 1M-row column has a handful of levels.
                rows, texts = _factorize_category_texts(column)
                lookup = self._level_codes[name]
                codes = [None if text is None else lookup.get(text) for text in texts]
                # The extra last entry is what rows without a value (factorize's -1) pick up.
                out[:, j] = np.array([np.nan if code is None else code for code in codes] + [np.nan])[rows]
                is_unseen = [code is None and text is not None for code, text in zip(codes, texts, strict=True)]
                unseen[:, j] = np.array(is_unseen + [False])[rows]
            else:
                out[:, j] = numeric_column(column, name=name, table="input")
        return Encoded(out, unseen)

    def encode_records(self, records: Sequence[Mapping[str, Any]]) -> Encoded:
        """As :meth:`encode`, for a few households given as mappings (no pandas: the low-latency path)."""
        missing = sorted({name for record in records for name in self.feature_names if name not in record})
        if missing:
            raise DataValidationError(
                [ValidationFailure("input", name, "column present", len(records)) for name in missing],
                summary=f"input: {MSG_MISSING_FEATURES}: {', '.join(missing)}",
            )
        # The values go into Python lists and become one array at the end, and only unseen levels are marked one
        # by one: writing each value into the array costs ~15 µs more for the service's single household.
        codes = self._level_codes
        values: list[float] = []
        unseen_at: list[tuple[int, int]] = []
        for i, record in enumerate(records):
            for j, name in enumerate(self.feature_names):
                value = record[name]
                lookup = codes.get(name)
                if lookup is None:
                    plain = type(value) in _PLAIN_NUMBERS
                    values.append(float(value) if plain else _number(value, name=name, row=i))
                    continue
                text = category_text(value)
                code = None if text is None else lookup.get(text)
                values.append(np.nan if code is None else code)
                if code is None and text is not None:
                    unseen_at.append((i, j))
        out = np.array(values, dtype=np.float64).reshape(len(records), len(self.feature_names))
        unseen = np.zeros(out.shape, dtype=bool)
        for i, j in unseen_at:
            unseen[i, j] = True
        return Encoded(out, unseen)

    @cached_property
    def _level_codes(self) -> dict[str, dict[str, int]]:
        """Per categorical feature: canonical text → code. Levels are matched as stored; a level an older bundle
        stored from a float column ("3.0") also answers to its canonical text ("3"), keeping its code."""
        lookup: dict[str, dict[str, int]] = {}
        for name, levels in self.categorical_levels.items():
            codes = {level: i for i, level in enumerate(levels)}
            for i, level in enumerate(levels):
                if _WHOLE_FLOAT_TEXT.fullmatch(level):
                    codes.setdefault(category_text(float(level)), i)
            lookup[name] = codes
        return lookup

    @cached_property
    def _bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per feature: minimum, maximum (categoricals: unbounded) and whether a missing value is out of
        distribution (a numeric feature never missing in training)."""
        low = np.full(len(self.feature_names), -np.inf)
        high = np.full(len(self.feature_names), np.inf)
        missing_ok = np.ones(len(self.feature_names), dtype=bool)
        for j, name in enumerate(self.feature_names):
            bounds = self.numeric_ranges.get(name)
            if bounds is not None:
                low[j], high[j], missing_ok[j] = bounds.minimum, bounds.maximum, bounds.missing_seen
        return low, high, ~missing_ok & np.isfinite(low)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's float matrix for ``frame`` (rows in order); unseen levels become missing."""
        return self.encode(frame).matrix

    def out_of_distribution(self, encoded: Encoded) -> np.ndarray:
        """Boolean matrix (rows × features): value outside the training range, unseen level, or unseen missing."""
        low, high, missing_unseen = self._bounds
        values = encoded.matrix
        with np.errstate(invalid="ignore"):
            outside = (values < low) | (values > high)
        return encoded.unseen | outside | (np.isnan(values) & missing_unseen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_names": list(self.feature_names),
            "categorical_levels": {k: list(v) for k, v in self.categorical_levels.items()},
            "numeric_ranges": {k: v.to_dict() for k, v in self.numeric_ranges.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeaturePreprocessor:
        return cls(
            feature_names=tuple(data["feature_names"]),
            categorical_levels={k: tuple(v) for k, v in data["categorical_levels"].items()},
            numeric_ranges={k: NumericRange(**v) for k, v in data["numeric_ranges"].items()},
        )


def category_text(value: Any) -> str | None:
    """The canonical text of one categorical value, or ``None`` when it is missing.

    Numbers are written as integers when they are whole (3, 3.0, ``np.int64(3)`` and ``np.float32(3)`` are all
    "3"), other floats as Python writes them ("2.5"). Text is kept exactly as it is ("3.0" stays "3.0"), booleans
    are "True"/"False". None, NaN and ``pd.NA`` are missing.
    """
    # Most likely types first, checked against module-level tuples: this runs for every value on the
    # single-household path.
    if isinstance(value, str):
        return value
    if isinstance(value, _FLOATS):
        if value != value:
            return None
        if value.is_integer() and abs(value) < _LARGEST_EXACT_INTEGER:
            return str(int(value))
        return str(value)
    if isinstance(value, _BOOLEANS):  # before the integers: bool is an int, but True is not the level "1"
        return "True" if value else "False"
    if isinstance(value, _INTEGERS):
        return str(int(value))
    if value is None or value is _NA or value is _NAT:
        return None
    return str(value)


def category_texts(column: pd.Series) -> pd.Series:
    """:func:`category_text` of every value of ``column``, as a ``string`` column with the same index and name."""
    rows, texts = _factorize_category_texts(column)
    values = np.array([*texts, None], dtype=object)[rows]
    return pd.Series(values, index=column.index, name=column.name, dtype="string")


def _factorize_category_texts(column: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """Per row, the position of its value among the distinct values (-1 where missing), and their canonical texts.

    Hashing first and writing text once per distinct value keeps this fast on large frames. (pandas hashes True and
    1 alike, so an object column mixing them gets the text of whichever comes first.)
    """
    rows, distinct = pd.factorize(column, use_na_sentinel=True)
    return rows, [category_text(value) for value in distinct]


def check_columns(frame: pd.DataFrame, names: Sequence[str], *, table: str) -> None:
    """Raise :class:`DataValidationError` naming every model column ``frame`` lacks."""
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataValidationError(
            [ValidationFailure(table, name, "column present", len(frame)) for name in missing],
            summary=f"{table}: {MSG_MISSING_FEATURES}: {', '.join(missing)}",
        )


def numeric_column(column: pd.Series, *, name: str, table: str) -> np.ndarray:
    """A numeric feature as float64; booleans count as 0/1; text that is not a number is an error naming rows."""
    if pd.api.types.is_bool_dtype(column):
        return column.astype("float64").to_numpy()
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna()
    if bad.any():
        positions = np.flatnonzero(bad.to_numpy())
        raise DataValidationError(
            [
                ValidationFailure(
                    table,
                    name,
                    MSG_NOT_NUMERIC,
                    int(bad.sum()),
                    examples=tuple(column[bad].astype(str).head(3)),
                    rows=tuple(int(p) for p in positions[:5]),
                )
            ],
            summary=f"{table}: column '{name}' must be numeric",
        )
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _number(value: Any, *, name: str, row: int) -> float:
    if _is_missing(value):
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataValidationError(
            [ValidationFailure("input", name, MSG_NOT_NUMERIC, 1, examples=(str(value),), rows=(row,))],
            summary=f"input: column '{name}' must be numeric",
        ) from None
