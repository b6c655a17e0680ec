"""Global explanation for the model card: how much each feature moves scores on average (mean |TreeSHAP|)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vroegsignaal.scoring.model import TreeEnsemble
from vroegsignaal.scoring.preprocess import FeaturePreprocessor

#: Rows used for global importance; exact TreeSHAP on more adds cost, not insight.
IMPORTANCE_SAMPLE_ROWS = 5_000


@dataclass(frozen=True)
class GlobalExplanation:
    """Mean absolute contribution (log-odds) per feature, largest first."""

    importance: tuple[tuple[str, float], ...]
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "mean |exact TreeSHAP contribution| (LightGBM pred_contrib), in log-odds, "
            f"on {self.rows} test rows",
            "global_importance": [
                {"feature": name, "mean_abs_contribution": round(value, 6)} for name, value in self.importance
            ],
        }

    def as_mapping(self) -> dict[str, float]:
        return dict(self.importance)


def explain_globally(
    ensemble: TreeEnsemble, preprocessor: FeaturePreprocessor, frame: pd.DataFrame, *, seed: int
) -> GlobalExplanation:
    """Mean |contribution| per feature on a sample of ``frame``."""
    rng = np.random.default_rng(seed)
    rows = frame if len(frame) <= IMPORTANCE_SAMPLE_ROWS else frame.iloc[rng.choice(len(frame), IMPORTANCE_SAMPLE_ROWS, replace=False)]
    contributions = ensemble.contributions(preprocessor.matrix(rows))[:, :-1]
    mean_abs = np.abs(contributions).mean(axis=0)
    ranked = sorted(zip(preprocessor.feature_names, mean_abs.tolist(), strict=True), key=lambda item: -item[1])
    return GlobalExplanation(tuple((name, float(value)) for name, value in ranked), len(rows))
