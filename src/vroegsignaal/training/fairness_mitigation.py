"""Mitigation with fairlearn reductions, and the report section that shows its effect on every group.

``ExponentiatedGradient`` trains a sequence of LightGBM models on reweighted and relabelled data so that their
mixture meets a fairness constraint. The sensitive attribute is needed only while training; the mixture is
returned as (weight, booster) pairs whose log-odds the pipeline averages, so scoring never sees an audit
attribute. Post-processing with group thresholds is deliberately not offered: it would need the attribute at
scoring time.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from fairlearn.reductions import (
    DemographicParity,
    EqualizedOdds,
    ExponentiatedGradient,
    TruePositiveRateParity,
)

from vroegsignaal.training.fairness_inputs import (
    MISSING_GROUP,
    MSG_UNKNOWN_ATTRIBUTE,
    binary_labels,
    check_feature_dtypes,
    check_same_length,
)
from vroegsignaal.training.fairness_report import FairnessReport

logger = logging.getLogger(__name__)

MSG_UNKNOWN_CONSTRAINT = "is not a known fairness constraint"
MSG_UNKNOWN_METHOD = "is not a mitigation method"
MSG_CATEGORICAL_MISMATCH = "must name every 'category' column of X, and only columns of X"
MSG_SINGLE_GROUP = "needs at least two groups to mitigate between"
MSG_NO_EARLY_STOPPING = "cannot use early stopping inside exponentiated gradient; give a fixed n_estimators"
MSG_ONLY_CONSTANT_PREDICTORS = "found only constant predictors; nothing to score with"
MSG_REPORTS_DIFFER = "must audit the same attributes, groups and rows before and after mitigation"

#: Config names (``MitigationConfig.constraint``) of the fairlearn constraints.
CONSTRAINTS = {
    "true_positive_rate_parity": TruePositiveRateParity,
    "equalized_odds": EqualizedOdds,
    "demographic_parity": DemographicParity,
}
METHODS = ("exponentiated_gradient",)
#: fairlearn 0.15's reductions grow pandas Series with ``.at[new_key] = ...``, which pandas 3 deprecates; the
#: warnings come from fairlearn's own code, change nothing in the result, and would fail every caller that
#: treats warnings as errors. They are silenced for fairlearn's modules only, and only around the fit.
_FAIRLEARN_PANDAS_WARNING = getattr(pd.errors, "Pandas4Warning", FutureWarning)
_EARLY_STOPPING_KEYS = ("early_stopping_rounds", "early_stopping_round", "early_stopping", "n_iter_no_change")


def fit_exponentiated_gradient(
    *,
    X: pd.DataFrame,
    y: np.ndarray,
    sensitive: pd.Series,
    estimator_params: Mapping[str, Any],
    categorical: Sequence[str],
    constraint: str,
    seed: int,
    max_iter: int = 15,
    eps: float = 0.01,
) -> list[tuple[float, lgb.Booster]]:
    """Train LightGBM under a fairness constraint with fairlearn's ``ExponentiatedGradient``.

    Parameters
    ----------
    X
        Training features. Categorical columns are pandas ``category`` or integer codes (as in the scoring
        matrix); every ``category`` column must be listed in ``categorical``.
    y
        Labels, 0/1.
    sensitive
        The audit attribute to mitigate for, row-aligned with ``X`` (missing values form the group
        ``'missing'``).
    estimator_params
        ``lightgbm.LGBMClassifier`` parameters, including ``monotone_constraints`` and a fixed
        ``n_estimators`` (early stopping is impossible here: there is no validation set inside the reduction).
    categorical
        The categorical feature names; LightGBM splits on them as categories whatever their dtype.
    constraint
        ``'true_positive_rate_parity'`` (equal opportunity), ``'equalized_odds'`` or ``'demographic_parity'``.
    seed
        LightGBM's ``random_state``; the result is deterministic for fixed inputs and thread count.
    max_iter, eps
        Iterations of the reduction and the allowed constraint violation.

    Returns
    -------
    list[tuple[float, lightgbm.Booster]]
        The mixture's members with non-zero weight; weights sum to 1. Constant predictors that fairlearn adds
        when a reweighted problem has a single class are dropped (and logged), and the remaining weights
        renormalised.
    """
    check_same_length(X=X, y=y, sensitive=sensitive)
    labels = binary_labels(y, name="y").astype(np.int64)
    if constraint not in CONSTRAINTS:
        raise ValueError(
            f"constraint {constraint!r} {MSG_UNKNOWN_CONSTRAINT} (choose one of: {', '.join(CONSTRAINTS)})"
        )
    early = [key for key in _EARLY_STOPPING_KEYS if estimator_params.get(key)]
    if early:
        raise ValueError(f"estimator_params: {', '.join(early)}: {MSG_NO_EARLY_STOPPING}")
    check_feature_dtypes(X, name="X")
    _check_categorical(X, categorical)
    groups = sensitive.astype("string").fillna(MISSING_GROUP).to_numpy(dtype=object)
    if len(set(groups)) < 2:
        raise ValueError(f"sensitive {MSG_SINGLE_GROUP}; found only {sorted(set(groups))!r}")

    estimator = _CategoricalLGBMClassifier(
        categorical_columns=tuple(str(c) for c in categorical),
        **{"verbose": -1, **estimator_params, "random_state": seed},
    )
    mitigator = ExponentiatedGradient(
        estimator=estimator, constraints=CONSTRAINTS[constraint](), eps=eps, max_iter=max_iter
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=_FAIRLEARN_PANDAS_WARNING, module=r"fairlearn\.")
        mitigator.fit(X, labels, sensitive_features=groups)
    return _mixture(mitigator.weights_, mitigator.predictors_)


def _check_categorical(X: pd.DataFrame, categorical: Sequence[str]) -> None:
    """Categorical columns may be pandas ``category`` or integer codes, but the list must agree with ``X``."""
    columns = {str(c) for c in X.columns}
    by_dtype = {str(c) for c, dtype in X.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)}
    listed = {str(c) for c in categorical}
    problems = []
    if listed - columns:
        problems.append(f"not in X: {', '.join(sorted(listed - columns))}")
    if by_dtype - listed:
        problems.append(f"'category' dtype but not listed: {', '.join(sorted(by_dtype - listed))}")
    if problems:
        raise ValueError(f"categorical {MSG_CATEGORICAL_MISMATCH}; {'; '.join(problems)}")


class _CategoricalLGBMClassifier(lgb.LGBMClassifier):
    """``LGBMClassifier`` that always fits with a fixed list of categorical columns.

    fairlearn's reduction calls ``fit(X, y, sample_weight=...)`` and nothing else, so the categorical columns
    travel as a constructor parameter (copied by ``sklearn.clone``) instead of a fit argument. This works for
    pandas ``category`` columns and for integer-coded categoricals in a float matrix alike.
    """

    def __init__(self, *, categorical_columns: tuple[str, ...] = (), **params: Any) -> None:
        super().__init__(**params)
        self.categorical_columns = categorical_columns

    def fit(
        self, X: pd.DataFrame, y: Any, sample_weight: Any = None, **kwargs: Any
    ) -> _CategoricalLGBMClassifier:
        categorical = list(self.categorical_columns) or "auto"
        return super().fit(X, y, sample_weight=sample_weight, categorical_feature=categorical, **kwargs)


def _mixture(weights: pd.Series, predictors: pd.Series) -> list[tuple[float, lgb.Booster]]:
    members = []
    dropped = 0.0
    for index, weight in weights.items():
        if weight <= 0:
            continue
        booster = getattr(predictors[index], "booster_", None)
        if booster is None:
            # fairlearn's stand-in for a single-class reweighted problem: a constant has no log-odds to
            # average.
            dropped += float(weight)
            continue
        members.append((float(weight), booster))
    if not members:
        raise ValueError(f"exponentiated gradient {MSG_ONLY_CONSTANT_PREDICTORS}")
    if dropped:
        logger.warning("exponentiated gradient: dropped constant predictors with total weight %.3f", dropped)
    total = sum(weight for weight, _ in members)
    return [(weight / total, booster) for weight, booster in members]


def mixture_log_odds(mixture: Sequence[tuple[float, lgb.Booster]], X: pd.DataFrame) -> np.ndarray:
    """The weighted mean of the members' raw scores (log-odds): the deterministic score of the mixture."""
    return np.sum([weight * booster.predict(X, raw_score=True) for weight, booster in mixture], axis=0)


def compare_mitigation(
    before: FairnessReport, after: FairnessReport, *, method: str, constraint: str, attribute: str
) -> dict[str, Any]:
    """The report's ``mitigation`` section: every attribute and gate before and after mitigation.

    Every attribute is shown, not only the one mitigated for: reweighting for one group can move the disparity
    onto another (Amsterdam's "Slimme Check", stopped in 2023). Both reports must audit the same rows; attach
    the result with ``dataclasses.replace(after, mitigation=...)``.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} {MSG_UNKNOWN_METHOD} (choose one of: {', '.join(METHODS)})")
    if constraint not in CONSTRAINTS:
        raise ValueError(
            f"constraint {constraint!r} {MSG_UNKNOWN_CONSTRAINT} (choose one of: {', '.join(CONSTRAINTS)})"
        )
    singles = [a.name for a in before.attributes if a.kind == "single"]
    if attribute not in singles:
        raise ValueError(
            f"attribute {attribute!r} {MSG_UNKNOWN_ATTRIBUTE} (audit attributes: {', '.join(singles)})"
        )
    _check_same_audit(before, after)
    return {
        "method": method,
        "constraint": constraint,
        "attribute": attribute,
        "before": [a.to_dict() for a in before.attributes],
        "after": [a.to_dict() for a in after.attributes],
        "gates_before": [g.to_dict() for g in before.gates],
        "gates_after": [g.to_dict() for g in after.gates],
    }


def _check_same_audit(before: FairnessReport, after: FairnessReport) -> None:
    def shape(report: FairnessReport) -> dict[str, dict[str, int]]:
        return {a.name: {g.group: g.size for g in a.groups} for a in report.attributes}

    shape_before, shape_after = shape(before), shape(after)
    names = shape_before.keys() | shape_after.keys()
    differing = sorted(name for name in names if shape_before.get(name) != shape_after.get(name))
    if differing:
        raise ValueError(f"before and after {MSG_REPORTS_DIFFER}; they differ in: {', '.join(differing)}")
