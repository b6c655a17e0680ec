"""The pieces of a trained model: the tree ensemble, its calibration and the risk bands.

A model is one LightGBM booster, or (after fairness mitigation by reductions) a deterministic weighted mixture of
boosters whose log-odds are averaged. Both explain the same way: per-feature contributions (exact TreeSHAP,
``pred_contrib``) add up to the log-odds, and the mixture's contributions are the weighted sum of its members'.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _safe_call

from vroegsignaal.schemas.enums import RiskBand

#: Below this many rows LightGBM's thread start-up costs more than it saves.
SINGLE_THREAD_ROWS = 256


def _threads(rows: int, num_threads: int) -> int:
    return 1 if rows < SINGLE_THREAD_ROWS else num_threads


#: LightGBM's C API constants (``c_api.h``) for the single-row predictor.
_C_API_PREDICT_CONTRIB = 3
_C_API_DTYPE_FLOAT64 = 1


class _SingleRowContributions:
    """TreeSHAP contributions of one row through LightGBM's single-row fast path (``c_api.h``,
    ``LGBM_BoosterPredictForMatSingleRowFast``), which LightGBM offers for low-latency serving.

    ``Booster.predict`` sets up a predictor and checks and converts its input on every call: ~45 µs for one row of
    this project's models here, against ~12 µs on this path, with bit-identical results
    (``tests/scoring/test_model.py``). The predictor is set up once per booster; the lock keeps two threads from
    sharing its buffers at once.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        self.columns = booster.num_feature()
        self._handle = ctypes.c_void_p()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,  # noqa: SLF001 - the booster's C handle is what the C API takes
                ctypes.c_int(_C_API_PREDICT_CONTRIB),
                ctypes.c_int(0),  # start iteration
                ctypes.c_int(-1),  # all iterations (the booster keeps only the best after early stopping)
                ctypes.c_int(_C_API_DTYPE_FLOAT64),
                ctypes.c_int32(self.columns),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(self._handle),
            )
        )
        self._lock = threading.Lock()

    def __call__(self, row: np.ndarray) -> np.ndarray:
        row = np.ascontiguousarray(row, dtype=np.float64)
        out = np.empty(self.columns + 1)
        length = ctypes.c_int64()
        with self._lock:
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                    self._handle,
                    row.ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(length),
                    out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                )
            )
        if length.value != len(out):
            raise ValueError(f"LightGBM returned {length.value} contributions for {self.columns} features")
        return out

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)  # absent when __init__ failed before making it
        if handle:
            _LIB.LGBM_FastConfigFree(handle)


#: The single-row predictor of each booster, made when first needed and dropped with the booster. Kept beside the
#: booster rather than on it so that boosters and ensembles pickle as before.
_SINGLE_ROW: weakref.WeakKeyDictionary[lgb.Booster, _SingleRowContributions] = weakref.WeakKeyDictionary()
_SINGLE_ROW_LOCK = threading.Lock()


def _single_row_contributions(booster: lgb.Booster) -> _SingleRowContributions:
    predictor = _SINGLE_ROW.get(booster)
    if predictor is None:
        with _SINGLE_ROW_LOCK:
            predictor = _SINGLE_ROW.get(booster)
            if predictor is None:
                predictor = _SINGLE_ROW[booster] = _SingleRowContributions(booster)
    return predictor


@dataclass(frozen=True)
class TreeEnsemble:
    """One booster, or a weighted mixture of boosters averaged in log-odds space."""

    boosters: tuple[lgb.Booster, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.boosters or len(self.boosters) != len(self.weights):
            raise ValueError("a tree ensemble needs one weight per booster and at least one booster")
        if any(w <= 0 for w in self.weights) or not np.isclose(sum(self.weights), 1.0):
            raise ValueError(f"ensemble weights must be positive and sum to 1, got {self.weights}")

    @classmethod
    def single(cls, booster: lgb.Booster) -> TreeEnsemble:
        return cls((booster,), (1.0,))

    def margin(self, matrix: np.ndarray, *, num_threads: int = 0) -> np.ndarray:
        """Log-odds per row."""
        threads = _threads(len(matrix), num_threads)
        total = np.zeros(len(matrix))
        for booster, weight in zip(self.boosters, self.weights, strict=True):
            total += weight * booster.predict(matrix, raw_score=True, num_threads=threads)
        return total

    def contributions(self, matrix: np.ndarray, *, num_threads: int = 0) -> np.ndarray:
        """Per-feature log-odds contributions (rows × features); the last column is the expected value."""
        threads = _threads(len(matrix), num_threads)
        total = np.zeros((len(matrix), matrix.shape[1] + 1))
        for booster, weight in zip(self.boosters, self.weights, strict=True):
            if matrix.shape == (1, booster.num_feature()):  # the service's household: the fast path
                total[0] += weight * _single_row_contributions(booster)(matrix[0])
            else:
                total += weight * booster.predict(matrix, pred_contrib=True, num_threads=threads)
        return total

    @property
    def num_trees(self) -> int:
        return sum(booster.num_trees() for booster in self.boosters)


@dataclass(frozen=True)
class Calibration:
    """Maps log-odds to a calibrated probability: Platt scaling (keeps the order) or isotonic regression."""

    method: Literal["sigmoid", "isotonic"]
    slope: float = 1.0
    intercept: float = 0.0
    knots_x: tuple[float, ...] = ()
    knots_y: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.method == "isotonic" and (len(self.knots_x) < 2 or len(self.knots_x) != len(self.knots_y)):
            raise ValueError("isotonic calibration needs at least two knots with one y per x")

    def apply(self, margin: np.ndarray) -> np.ndarray:
        if self.method == "sigmoid":
            return 1.0 / (1.0 + np.exp(-(self.slope * margin + self.intercept)))
        return np.interp(margin, self.knots_x, self.knots_y)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "slope": self.slope,
            "intercept": self.intercept,
            "knots_x": list(self.knots_x),
            "knots_y": list(self.knots_y),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        return cls(
            method=data["method"],
            slope=float(data.get("slope", 1.0)),
            intercept=float(data.get("intercept", 0.0)),
            knots_x=tuple(data.get("knots_x", ())),
            knots_y=tuple(data.get("knots_y", ())),
        )


#: The bands by the number of thresholds a score reaches.
_BAND_NAMES = np.array([RiskBand.LOW.value, RiskBand.MEDIUM.value, RiskBand.HIGH.value])


def logit(p: np.ndarray | float) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(clipped / (1 - clipped))


@dataclass(frozen=True)
class RiskBands:
    """Score thresholds of the risk bands, chosen on the calibration rows from the team's capacity.

    ``high`` holds about the households the team can contact in a period; ``medium`` the next ones. A score within
    ``uncertainty_margin`` (in log-odds) of a threshold is flagged as uncertain: a small change in the data could move
    the household to another band.
    """

    high: float
    medium: float
    uncertainty_margin: float = 0.2
    high_share: float | None = None
    medium_share: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.medium <= self.high <= 1:
            raise ValueError(f"band thresholds must satisfy 0 <= medium <= high <= 1, got {self.medium}, {self.high}")

    @classmethod
    def from_scores(
        cls, scores: np.ndarray, *, high_share: float, medium_share: float, uncertainty_margin: float = 0.2
    ) -> RiskBands:
        """Thresholds such that about ``high_share`` of ``scores`` is high and ``medium_share`` medium."""
        if not (0 < high_share < 1 and 0 <= medium_share < 1 and high_share + medium_share <= 1):
            raise ValueError(f"band shares must lie in (0, 1) and add up to at most 1, got {high_share}, {medium_share}")
        high = float(np.quantile(scores, 1 - high_share))
        medium = float(np.quantile(scores, 1 - high_share - medium_share))
        return cls(high, min(medium, high), uncertainty_margin, high_share, medium_share)

    def band(self, scores: np.ndarray) -> np.ndarray:
        # medium <= high, so the count of thresholds reached picks the band: what nested np.where gives, without
        # making arrays of the band names on every call (~4 µs for one household).
        return _BAND_NAMES[(scores >= self.medium).astype(np.intp) + (scores >= self.high)]

    def uncertain(self, scores: np.ndarray) -> np.ndarray:
        log_odds = logit(scores)
        high, medium = self._threshold_log_odds
        distance = np.minimum(np.abs(log_odds - high), np.abs(log_odds - medium))
        return distance < self.uncertainty_margin

    @cached_property
    def _threshold_log_odds(self) -> tuple[float, float]:
        return float(logit(self.high)), float(logit(self.medium))

    def to_dict(self) -> dict[str, Any]:
        return {
            "high": self.high,
            "medium": self.medium,
            "uncertainty_margin": self.uncertainty_margin,
            "high_share": self.high_share,
            "medium_share": self.medium_share,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskBands:
        return cls(**data)


def ensemble_from_model_strings(models: Sequence[str], weights: Sequence[float]) -> TreeEnsemble:
    return TreeEnsemble(tuple(lgb.Booster(model_str=text) for text in models), tuple(float(w) for w in weights))
