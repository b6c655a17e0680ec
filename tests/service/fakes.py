"""A fake scorer that follows the Scorer contract (docs/contracts.md) with a rule a test can reason about."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vroegsignaal.schemas.enums import INTENSITY_BY_BAND, ReviewFlag, RiskBand

#: The fake's score is total arrears over this amount (capped below 1).
ARREARS_FOR_CERTAINTY_EUR = 10_000.0
HIGH_BAND_FROM = 0.5
MEDIUM_BAND_FROM = 0.2
UNCERTAIN_MARGIN = 0.02
#: Total arrears above this are "outside the training range" for the fake.
OOD_ABOVE_EUR = 50_000.0


@dataclass(frozen=True)
class FakeScorer:
    """Scores by total arrears; explains with the two largest arrears features."""

    model_version: str = "fake-1"
    feature_names: tuple[str, ...] = ("total_arrears_eur", "rent_arrears_eur", "crisis_signal_3m")

    def score_frame(self, features: pd.DataFrame, *, explain: bool | np.ndarray | str = True) -> pd.DataFrame:
        missing = [name for name in self.feature_names if name not in features.columns]
        if missing:
            raise KeyError(missing)
        total = features["total_arrears_eur"].to_numpy(dtype=float)
        scores = np.minimum(total / ARREARS_FOR_CERTAINTY_EUR, 0.99)
        bands = np.where(
            scores >= HIGH_BAND_FROM, RiskBand.HIGH.value,
            np.where(scores >= MEDIUM_BAND_FROM, RiskBand.MEDIUM.value, RiskBand.LOW.value),
        )
        uncertain = (np.abs(scores - HIGH_BAND_FROM) < UNCERTAIN_MARGIN) | (
            np.abs(scores - MEDIUM_BAND_FROM) < UNCERTAIN_MARGIN
        )
        rows = []
        for score, band, unsure, arrears, rent, crisis in zip(
            scores, bands, uncertain, total, features["rent_arrears_eur"], features["crisis_signal_3m"], strict=True
        ):
            ood = ["total_arrears_eur"] if arrears > OOD_ABOVE_EUR else []
            flags = [ReviewFlag.HIGH_RISK.value] if band == RiskBand.HIGH.value else []
            flags += [ReviewFlag.UNCERTAIN.value] if unsure else []
            flags += [ReviewFlag.OUT_OF_DISTRIBUTION.value] if ood else []
            flags += [ReviewFlag.CRISIS.value] if crisis else []
            reasons = [
                {"feature": "total_arrears_eur", "contribution": float(score), "value": np.float64(arrears),
                 "text_nl": f"Totale achterstand € {arrears:.0f}", "text_en": f"Total arrears €{arrears:.0f}"},
                {"feature": "rent_arrears_eur", "contribution": 0.1, "value": float(rent),
                 "text_nl": "Huurachterstand", "text_en": "Rent arrears"},
            ]
            rows.append(
                {
                    "score": float(score),
                    "band": str(band),
                    "intensity": INTENSITY_BY_BAND[RiskBand(band)].value,
                    "uncertain": bool(unsure),
                    "out_of_distribution": ood,
                    "flags": flags,
                    "reasons": reasons if explain is not False else None,
                }
            )
        return pd.DataFrame(rows, index=features.index)

    def score_records(self, records, *, explain: bool = True) -> list[FakeScored]:
        """The records path the service uses: one result per household with ``to_dict()``."""
        frame = self.score_frame(pd.DataFrame(list(records), columns=list(self.feature_names)), explain=explain)
        return [FakeScored({**row, "model_version": self.model_version}) for row in frame.to_dict("records")]


@dataclass(frozen=True)
class FakeScored:
    """What ``Scorer.score_records`` returns, reduced to what the service reads."""

    values: dict

    def to_dict(self) -> dict:
        return dict(self.values)
