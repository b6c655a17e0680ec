"""Fit → calibrate → choose risk bands.

LightGBM with monotone constraints (more arrears never lowers the score) and early stopping on the validation rows,
then calibration on rows the trees never saw, so the score is a probability an ethics committee can read. The fit
refuses any sensitive or denylisted column and any feature that merely re-labels an audit attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from vroegsignaal.errors import ConfigError, SensitiveFeatureError
from vroegsignaal.schemas.dataset_config import DatasetConfig, check_features_allowed
from vroegsignaal.scoring.bundle import monotone_vector
from vroegsignaal.scoring.model import Calibration, RiskBands, TreeEnsemble
from vroegsignaal.scoring.preprocess import FeaturePreprocessor
from vroegsignaal.training.data import Dataset
from vroegsignaal.training.split import DataSplit

MSG_COPY_OF_AUDIT = "fixes the group of the audit attribute"
MSG_MONOTONE_CATEGORICAL = "a categorical feature cannot have a monotone direction"
#: Audit attributes with at most this many groups are compared with low-cardinality features for copies.
COPY_CHECK_MAX_LEVELS = 50
#: Rows per distinct value a feature needs before its values fixing a group means it copies the attribute.
COPY_CHECK_MIN_ROWS_PER_VALUE = 5
COPY_CHECK_SAMPLE_ROWS = 200_000


@dataclass(frozen=True)
class FittedModel:
    """A trained tree ensemble with the encoding it was trained on."""

    ensemble: TreeEnsemble
    preprocessor: FeaturePreprocessor
    params: Mapping[str, Any]
    best_iteration: int
    monotone: tuple[int, ...]

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        return self.ensemble.margin(self.preprocessor.matrix(frame))

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": dict(self.params),
            "best_iteration": self.best_iteration,
            "num_trees": self.ensemble.num_trees,
            "ensemble_size": len(self.ensemble.boosters),
            "monotone": dict(zip(self.preprocessor.feature_names, self.monotone, strict=True)),
        }


def check_not_copies_of_audit(features: pd.DataFrame, audit: pd.DataFrame) -> None:
    """Refuse a feature whose value fixes an audit attribute's group: a renamed, recoded or finer-grained copy of a
    sensitive column (the raw codes a gender map reads, the age in years its bands are cut from). A feature with
    most values occurring only once (an amount, say) fixes every group trivially, so it needs at least
    :data:`COPY_CHECK_MIN_ROWS_PER_VALUE` rows per value to count. A copy holds on every row, so a sample of
    :data:`COPY_CHECK_SAMPLE_ROWS` rows shows it."""
    if len(features) > COPY_CHECK_SAMPLE_ROWS:
        sample = np.random.default_rng(0).choice(len(features), COPY_CHECK_SAMPLE_ROWS, replace=False)
        features, audit = features.iloc[sample], audit.iloc[sample]
    group_codes = {}
    for attribute in audit.columns:
        codes, levels = pd.factorize(audit[attribute].astype("string"), use_na_sentinel=False)
        if 2 <= len(levels) <= COPY_CHECK_MAX_LEVELS:
            group_codes[attribute] = (codes, len(levels))
    problems = []
    for feature in features.columns:
        values, levels = pd.factorize(features[feature].astype("string"), use_na_sentinel=False)
        if len(levels) * COPY_CHECK_MIN_ROWS_PER_VALUE > len(values):
            continue
        for attribute, (codes, n_groups) in group_codes.items():
            seen = np.zeros((len(levels), n_groups), dtype=bool)
            seen[values, codes] = True
            if len(levels) >= n_groups and seen.sum(axis=1).max() == 1:
                problems.append(f"feature '{feature}' {MSG_COPY_OF_AUDIT} '{attribute}'")
    if problems:
        raise SensitiveFeatureError("features: " + "; ".join(problems))


def lightgbm_params(config: DatasetConfig, monotone: Sequence[int]) -> dict[str, Any]:
    """The LightGBM parameters for this config (deterministic for a seed)."""
    model = config.model
    return {
        "objective": "binary",
        "metric": ["binary_logloss", "auc"],
        "first_metric_only": True,
        "learning_rate": model.learning_rate,
        "num_leaves": model.num_leaves,
        "min_child_samples": model.min_child_samples,
        "feature_fraction": model.feature_fraction,
        "bagging_fraction": model.bagging_fraction,
        "bagging_freq": model.bagging_freq,
        "lambda_l2": model.lambda_l2,
        "monotone_constraints": list(monotone),
        "monotone_constraints_method": "intermediate",
        "seed": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": model.num_threads,
        "verbosity": -1,
    }


def prepare_training(
    dataset: Dataset, config: DatasetConfig, *, training_rows: np.ndarray
) -> tuple[FeaturePreprocessor, list[int]]:
    """Checks that must hold before any tree is grown, and the encoding learnt from the training rows: its levels
    and ranges are what the trees have seen, so "outside the training range" means just that (never the test
    rows, which must stay unseen)."""
    check_features_allowed(list(dataset.feature_names), config.sensitive_columns)
    check_not_copies_of_audit(dataset.frame, dataset.audit)
    monotone = monotone_vector(config, dataset.feature_names)
    bad = [n for n, d in zip(dataset.feature_names, monotone, strict=True) if d and n in dataset.categorical]
    if bad:
        raise ConfigError(f"monotone_increasing/decreasing: {', '.join(bad)}: {MSG_MONOTONE_CATEGORICAL}")
    preprocessor = FeaturePreprocessor.fit(
        dataset.frame.iloc[training_rows], feature_names=dataset.feature_names, categorical=dataset.categorical
    )
    return preprocessor, monotone


def fit_model(dataset: Dataset, split: DataSplit, config: DatasetConfig) -> FittedModel:
    """Train LightGBM on the training rows with early stopping on the validation rows."""
    preprocessor, monotone = prepare_training(dataset, config, training_rows=split.train)
    matrix = preprocessor.matrix(dataset.frame)
    params = lightgbm_params(config, monotone)
    categorical = preprocessor.categorical_indices
    train = lgb.Dataset(
        matrix[split.train],
        dataset.y[split.train],
        feature_name=list(dataset.feature_names),
        categorical_feature=categorical,
        free_raw_data=True,
    )
    valid = lgb.Dataset(matrix[split.validation], dataset.y[split.validation], reference=train)
    booster = lgb.train(
        params,
        train,
        num_boost_round=config.model.n_estimators,
        valid_sets=[valid],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(config.model.early_stopping_rounds, first_metric_only=True, verbose=False)],
    )
    best = booster.best_iteration or booster.current_iteration()
    # Keep only the trees early stopping chose, so scoring and explaining never pay for the rest.
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return FittedModel(TreeEnsemble.single(booster), preprocessor, params, int(best), tuple(monotone))


def calibrate(margin: np.ndarray, y: np.ndarray, *, method: str, seed: int) -> Calibration:
    """Fit the calibration on held-out rows' log-odds."""
    if method == "sigmoid":
        model = LogisticRegression(C=1e6, random_state=seed).fit(margin.reshape(-1, 1), y)
        return Calibration("sigmoid", slope=float(model.coef_[0, 0]), intercept=float(model.intercept_[0]))
    isotonic = IsotonicRegression(out_of_bounds="clip", increasing=True, y_min=0.0, y_max=1.0).fit(margin, y)
    return Calibration(
        "isotonic",
        knots_x=tuple(float(x) for x in isotonic.X_thresholds_),
        knots_y=tuple(float(v) for v in isotonic.y_thresholds_),
    )


def capacity_share(config: DatasetConfig, rows_per_period: float) -> float:
    """The team's capacity as a share of the households scored in one period."""
    capacity = config.capacity
    if capacity.fraction is not None:
        return capacity.fraction
    return min(0.9, capacity.count / max(rows_per_period, 1.0))  # type: ignore[operator]


def choose_bands(scores: np.ndarray, config: DatasetConfig, *, rows_per_period: float) -> RiskBands:
    """Band thresholds: high ≈ what the team can contact, medium ≈ the next two capacities (or the config's shares)."""
    if config.risk_bands:
        high_share = config.risk_bands.get("high", capacity_share(config, rows_per_period))
        medium_share = config.risk_bands.get("medium", 2 * high_share)
    else:
        high_share = capacity_share(config, rows_per_period)
        medium_share = 2 * high_share
    medium_share = min(medium_share, 0.95 - high_share)
    return RiskBands.from_scores(scores, high_share=high_share, medium_share=max(medium_share, 0.0))
