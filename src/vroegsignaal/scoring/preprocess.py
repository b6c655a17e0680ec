"""One numeric encoding of the feature table, shared by training and scoring.

The model is trained and scored on the same float matrix: numeric features as floats, categorical features as the
index of their level in the training levels (LightGBM's categorical codes), unseen levels as missing. The training
ranges recorded here let the scorer flag input outside what the model has seen (out of distribution).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from vroegsignaal.errors import DataValidationError, ValidationFailure

MSG_MISSING_FEATURES = "missing model feature column(s)"
MSG_NOT_NUMERIC = "expected numbers"


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
                levels[name] = tuple(sorted({str(v) for v in column.dropna().unique()}))
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
                codes = pd.Index(self.categorical_levels[name]).get_indexer(column.astype("string"))
                out[:, j] = np.where(codes < 0, np.nan, codes)
                unseen[:, j] = (codes < 0) & column.notna().to_numpy()
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
        out = np.empty((len(records), len(self.feature_names)), dtype=np.float64)
        unseen = np.zeros(out.shape, dtype=bool)
        codes = self._level_codes
        for i, record in enumerate(records):
            for j, name in enumerate(self.feature_names):
                value = record[name]
                if name in codes:
                    absent = _is_missing(value)
                    code = None if absent else codes[name].get(str(value))
                    out[i, j] = np.nan if code is None else code
                    unseen[i, j] = code is None and not absent
                else:
                    out[i, j] = _number(value, name=name, row=i)
        return Encoded(out, unseen)

    @cached_property
    def _level_codes(self) -> dict[str, dict[str, int]]:
        return {name: {level: i for i, level in enumerate(levels)} for name, levels in self.categorical_levels.items()}

    @cached_property
    def _bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per feature: minimum, maximum and whether missing was seen (categoricals: unbounded)."""
        low = np.full(len(self.feature_names), -np.inf)
        high = np.full(len(self.feature_names), np.inf)
        missing_ok = np.ones(len(self.feature_names), dtype=bool)
        for j, name in enumerate(self.feature_names):
            bounds = self.numeric_ranges.get(name)
            if bounds is not None:
                low[j], high[j], missing_ok[j] = bounds.minimum, bounds.maximum, bounds.missing_seen
        return low, high, missing_ok

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's float matrix for ``frame`` (rows in order); unseen levels become missing."""
        return self.encode(frame).matrix

    def out_of_distribution(self, encoded: Encoded) -> np.ndarray:
        """Boolean matrix (rows × features): value outside the training range, unseen level, or unseen missing."""
        low, high, missing_ok = self._bounds
        values = encoded.matrix
        missing = np.isnan(values)
        with np.errstate(invalid="ignore"):
            outside = (values < low) | (values > high)
        numeric = np.isfinite(low)
        return encoded.unseen | outside | (missing & ~missing_ok & numeric)

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
