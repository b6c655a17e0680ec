"""Scores households with one model version: calibrated score, risk band, suggested contact, flags and reasons.

The scorer never decides about a person: it orders the work and explains itself. Exact TreeSHAP is costly (hundreds
of rows a second per core on a large model), so a batch computes reasons only where a person will read them: by
default for every household that lands on a list (a recent signal, the high band) or carries a review flag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from vroegsignaal.schemas.enums import INTENSITY_BY_BAND, ReviewFlag, RiskBand
from vroegsignaal.scoring.bundle import ModelBundle
from vroegsignaal.scoring.preprocess import Encoded
from vroegsignaal.scoring.reasons import ReasonWriter

#: Rows per chunk when computing contributions: bounds memory on very large batches.
EXPLAIN_CHUNK_ROWS = 50_000
#: Feature whose value > 0 means the household has a recent signal (catalogue data): it lands on the outreach list.
RECENT_SIGNAL_FEATURE = "signals_3m"
#: Feature whose value 0 means no signal at all in a year (catalogue data): the household is on no list, so a flag
#: (typically "outside the training range": the model was trained on signalled households) is information, not work.
ANY_SIGNAL_FEATURE = "signals_12m"
FLAG_FEATURES = {"crisis_signal_3m": ReviewFlag.CRISIS, "end_of_supply_3m": ReviewFlag.END_OF_SUPPLY}
#: Input columns the flags and the explain policy read (when the model has them).
SIGNAL_COLUMNS = (*FLAG_FEATURES, RECENT_SIGNAL_FEATURE, ANY_SIGNAL_FEATURE)

Explain = bool | np.ndarray | Literal["listed"]
# The enum values the scorer reads for every batch, looked up once.
_HIGH_BAND = RiskBand.HIGH.value
_SCORE_FLAGS = (ReviewFlag.HIGH_RISK.value, ReviewFlag.UNCERTAIN.value, ReviewFlag.OUT_OF_DISTRIBUTION.value)
_FLAG_FEATURE_VALUES = tuple((feature, flag.value) for feature, flag in FLAG_FEATURES.items())


@dataclass(frozen=True)
class ScoredHousehold:
    """The scorer's advice for one household."""

    score: float
    band: str
    intensity: str
    uncertain: bool
    out_of_distribution: tuple[str, ...]
    flags: tuple[str, ...]
    reasons: tuple[dict[str, Any], ...] | None
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "band": self.band,
            "intensity": self.intensity,
            "uncertain": self.uncertain,
            "out_of_distribution": list(self.out_of_distribution),
            "flags": list(self.flags),
            "reasons": None if self.reasons is None else [dict(r) for r in self.reasons],
            "model_version": self.model_version,
        }


class Scorer:
    """Immutable and thread-safe: build it once per model version and share it."""

    def __init__(self, bundle: ModelBundle, *, num_threads: int = 0, top_n: int = 3) -> None:
        self.bundle = bundle
        self.num_threads = num_threads
        self.top_n = top_n
        self.reason_writer = ReasonWriter.build(
            bundle.feature_names,
            categorical=list(bundle.preprocessor.categorical_levels),
            feature_text=bundle.config.feature_text,
        )
        self._intensity = {band.value: INTENSITY_BY_BAND[band].value for band in RiskBand}

    @property
    def model_version(self) -> str:
        return self.bundle.model_version

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.bundle.feature_names

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities only (no bands, flags or reasons)."""
        matrix = self.bundle.preprocessor.matrix(features)
        return self.bundle.calibration.apply(self.bundle.ensemble.margin(matrix, num_threads=self.num_threads))

    def score_frame(self, features: pd.DataFrame, *, explain: Explain = "listed", top_n: int | None = None) -> pd.DataFrame:
        """Score every row of ``features``; see docs/contracts.md ("Scorer") for the columns."""
        encoded = self.bundle.preprocessor.encode(features)
        signals = {
            name: pd.to_numeric(features[name], errors="coerce").fillna(0).to_numpy()
            for name in SIGNAL_COLUMNS
            if name in features.columns
        }
        columns = self._score(encoded, signals, explain, lambda rows: features.iloc[rows], top_n or self.top_n)
        return pd.DataFrame(columns, index=features.index)

    def score_records(
        self, records: Sequence[Mapping[str, Any]], *, explain: bool = True, top_n: int | None = None
    ) -> list[ScoredHousehold]:
        """Score a few households given as mappings of feature values: the low-latency path (no pandas)."""
        encoded = self.bundle.preprocessor.encode_records(records)
        signals = {
            name: np.array([float(record.get(name) or 0) for record in records])
            for name in SIGNAL_COLUMNS
            if records and name in records[0]
        }
        columns = self._score(encoded, signals, explain, lambda rows: [records[i] for i in rows], top_n or self.top_n)
        return [
            ScoredHousehold(
                score=float(columns["score"][i]),
                band=str(columns["band"][i]),
                intensity=columns["intensity"][i],
                uncertain=bool(columns["uncertain"][i]),
                out_of_distribution=tuple(columns["out_of_distribution"][i]),
                flags=tuple(columns["flags"][i]),
                reasons=None if columns["reasons"][i] is None else tuple(columns["reasons"][i]),
                model_version=self.model_version,
            )
            for i in range(len(records))
        ]

    def score_one(self, features: Mapping[str, Any], *, explain: bool = True) -> ScoredHousehold:
        """One household (a mapping of feature values)."""
        return self.score_records([features], explain=explain)[0]

    def _score(
        self,
        encoded: Encoded,
        signals: Mapping[str, np.ndarray],
        explain: Explain,
        values_of: Callable[[np.ndarray], Any],
        top_n: int,
    ) -> dict[str, Any]:
        """Scores, bands, flags and reasons for encoded rows; ``values_of(rows)`` gives raw values for sentences."""
        bundle = self.bundle
        rows = len(encoded.matrix)
        # When every row is explained anyway (the service's few households), the contributions give the log-odds
        # too (TreeSHAP values add up to the model's output): one pass over the trees instead of two.
        every_contribution = (
            bundle.ensemble.contributions(encoded.matrix, num_threads=self.num_threads)
            if explain is True and 0 < rows <= EXPLAIN_CHUNK_ROWS
            else None
        )
        margin = (
            every_contribution.sum(axis=1)
            if every_contribution is not None
            else bundle.ensemble.margin(encoded.matrix, num_threads=self.num_threads)
        )
        scores = bundle.calibration.apply(margin)
        bands = bundle.bands.band(scores)
        uncertain = bundle.bands.uncertain(scores)
        ood_matrix = bundle.preprocessor.out_of_distribution(encoded)
        flag_columns = [bands == _HIGH_BAND, uncertain, ood_matrix.any(axis=1)]
        flag_names = list(_SCORE_FLAGS)
        for feature, flag in _FLAG_FEATURE_VALUES:
            if feature in signals and feature in self.feature_names:
                flag_columns.append(signals[feature] > 0)
                flag_names.append(flag)
        # The columns side by side: np.array(...).T is np.column_stack for 1-D columns, at a third of its cost here.
        flag_matrix = np.array(flag_columns).T if rows else np.zeros((0, len(flag_columns)), dtype=bool)
        explain_mask = self._explain_mask(
            explain, rows, bands, flag_matrix, signals.get(RECENT_SIGNAL_FEATURE), signals.get(ANY_SIGNAL_FEATURE)
        )
        reasons: list[list[dict[str, Any]] | None] = [None] * rows
        explained = np.flatnonzero(explain_mask)
        for start in range(0, len(explained), EXPLAIN_CHUNK_ROWS):
            chunk = explained[start : start + EXPLAIN_CHUNK_ROWS]
            contributions = (
                every_contribution[chunk, :-1]
                if every_contribution is not None
                else bundle.ensemble.contributions(encoded.matrix[chunk], num_threads=self.num_threads)[:, :-1]
            )
            for row, row_reasons in zip(
                chunk, self.reason_writer.top_reasons(contributions, values_of(chunk), top_n=top_n), strict=True
            ):
                reasons[row] = row_reasons
        return {
            "score": scores,
            "band": bands,
            "intensity": [self._intensity[b] for b in bands],
            "uncertain": uncertain,
            "out_of_distribution": _names_per_row(ood_matrix, bundle.preprocessor.feature_names),
            "flags": _names_per_row(flag_matrix, flag_names),
            "reasons": reasons,
        }

    @staticmethod
    def _explain_mask(
        explain: Explain,
        rows: int,
        bands: np.ndarray,
        flags: np.ndarray,
        recent_signals: np.ndarray | None,
        any_signals: np.ndarray | None,
    ) -> np.ndarray:
        """Which rows get reasons: all, none, a given mask, or ``"listed"`` — every household that lands on a list
        (a recent signal; the high band) or carries a review flag, except, for signal data, households without any
        signal in a year: they are on no list and nobody reads their reasons."""
        if isinstance(explain, np.ndarray):
            if explain.shape != (rows,):
                raise ValueError(f"explain mask has shape {explain.shape}, expected ({rows},)")
            return explain.astype(bool)
        if isinstance(explain, str) and explain == "listed":
            listed = (bands == RiskBand.HIGH.value) | flags.any(axis=1)
            if any_signals is not None:
                listed &= any_signals > 0
            if recent_signals is not None:
                listed |= recent_signals > 0
            return listed
        return np.full(rows, bool(explain))


def _names_per_row(mask: np.ndarray, names: list[str] | tuple[str, ...]) -> list[list[str]]:
    """For each row the names of the set columns (fast when most rows have none)."""
    result: list[list[str]] = [[] for _ in range(len(mask))]
    rows, columns = np.nonzero(mask)
    for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
        result[row].append(names[column])
    return result
