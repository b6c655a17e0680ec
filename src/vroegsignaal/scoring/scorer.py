"""Scores households with one model version: calibrated score, risk band, suggested contact, flags and reasons.

The scorer never decides about a person: it orders the work and explains itself. Exact TreeSHAP is costly (hundreds
of rows a second per core on a large model), so a batch computes reasons only where a person will read them: by
default for every household that lands on a list (a recent signal, the high band) or carries a review flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from vroegsignaal.schemas.enums import INTENSITY_BY_BAND, ReviewFlag, RiskBand
from vroegsignaal.scoring.bundle import ModelBundle
from vroegsignaal.scoring.reasons import ReasonWriter

#: Rows per chunk when computing contributions: bounds memory on very large batches.
EXPLAIN_CHUNK_ROWS = 50_000
#: Feature whose value > 0 means the household has a recent signal (catalogue data): it lands on the outreach list.
RECENT_SIGNAL_FEATURE = "signals_3m"
FLAG_FEATURES = {"crisis_signal_3m": ReviewFlag.CRISIS, "end_of_supply_3m": ReviewFlag.END_OF_SUPPLY}

Explain = bool | np.ndarray | Literal["listed"]


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
        preprocessor = self.bundle.preprocessor
        matrix = preprocessor.matrix(features)
        scores = self.bundle.calibration.apply(self.bundle.ensemble.margin(matrix, num_threads=self.num_threads))
        bands = self.bundle.bands.band(scores)
        uncertain = self.bundle.bands.uncertain(scores)
        ood_matrix = preprocessor.out_of_distribution(features, matrix)
        ood = _names_per_row(ood_matrix, preprocessor.feature_names)
        flag_matrix, flag_names = self._flag_matrix(features, bands, uncertain, ood_matrix)
        flags = _names_per_row(flag_matrix, flag_names)
        explain_mask = self._explain_mask(explain, features, bands, flag_matrix)
        reasons: list[list[dict[str, Any]] | None] = [None] * len(features)
        rows = np.flatnonzero(explain_mask)
        for start in range(0, len(rows), EXPLAIN_CHUNK_ROWS):
            chunk = rows[start : start + EXPLAIN_CHUNK_ROWS]
            contributions = self.bundle.ensemble.contributions(matrix[chunk], num_threads=self.num_threads)[:, :-1]
            values = features.iloc[chunk][list(preprocessor.feature_names)]
            for row, row_reasons in zip(
                chunk, self.reason_writer.top_reasons(contributions, values, top_n=top_n or self.top_n), strict=True
            ):
                reasons[row] = row_reasons
        return pd.DataFrame(
            {
                "score": scores,
                "band": bands,
                "intensity": [self._intensity[b] for b in bands],
                "uncertain": uncertain,
                "out_of_distribution": ood,
                "flags": flags,
                "reasons": reasons,
            },
            index=features.index,
        )

    def score_one(self, features: Mapping[str, Any], *, explain: bool = True) -> ScoredHousehold:
        """Low-latency path for one household."""
        frame = pd.DataFrame([{name: features.get(name) for name in self.feature_names}])
        row = self.score_frame(frame, explain=explain).iloc[0]
        return ScoredHousehold(
            score=float(row["score"]),
            band=str(row["band"]),
            intensity=str(row["intensity"]),
            uncertain=bool(row["uncertain"]),
            out_of_distribution=tuple(row["out_of_distribution"]),
            flags=tuple(row["flags"]),
            reasons=None if row["reasons"] is None else tuple(row["reasons"]),
            model_version=self.model_version,
        )

    def _flag_matrix(
        self, features: pd.DataFrame, bands: np.ndarray, uncertain: np.ndarray, ood: np.ndarray
    ) -> tuple[np.ndarray, list[str]]:
        columns = [bands == RiskBand.HIGH.value, uncertain, ood.any(axis=1)]
        names = [ReviewFlag.HIGH_RISK.value, ReviewFlag.UNCERTAIN.value, ReviewFlag.OUT_OF_DISTRIBUTION.value]
        for feature, flag in FLAG_FEATURES.items():
            if feature in features.columns and feature in self.feature_names:
                columns.append(pd.to_numeric(features[feature], errors="coerce").fillna(0).to_numpy() > 0)
                names.append(flag.value)
        return np.column_stack(columns), names

    def _explain_mask(
        self, explain: Explain, features: pd.DataFrame, bands: np.ndarray, flags: np.ndarray
    ) -> np.ndarray:
        if isinstance(explain, np.ndarray):
            if explain.shape != (len(features),):
                raise ValueError(f"explain mask has shape {explain.shape}, expected ({len(features)},)")
            return explain.astype(bool)
        if explain == "listed":
            listed = (bands == RiskBand.HIGH.value) | flags.any(axis=1)
            if RECENT_SIGNAL_FEATURE in features.columns:
                listed |= pd.to_numeric(features[RECENT_SIGNAL_FEATURE], errors="coerce").fillna(0).to_numpy() > 0
            return listed
        return np.full(len(features), bool(explain))


def _names_per_row(mask: np.ndarray, names: list[str] | tuple[str, ...]) -> list[list[str]]:
    """For each row the names of the set columns (fast when most rows have none)."""
    result: list[list[str]] = [[] for _ in range(len(mask))]
    rows, columns = np.nonzero(mask)
    for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
        result[row].append(names[column])
    return result
