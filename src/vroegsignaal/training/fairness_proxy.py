"""The proxy check: how well do the model's features predict each audit attribute?

Leaving a sensitive attribute out of the features does not keep it out of the model when other features stand
in for it (a neighbourhood for origin, household type for gender). For each audit attribute a small LightGBM
is cross-validated on a capped sample to predict the attribute from the features; its out-of-fold AUC (macro
one-vs-rest for more than two groups) says how much of the attribute the features carry. An AUC near 0.5 means
the features know nothing about it; near 1 means they nearly reveal it.

When a household has rows in several months, its rows stay in one fold: otherwise the model meets the household in
training and recognises it in the held-out fold, and the AUC measures memory rather than a proxy.

The AUC gets a bootstrap interval like every other gated number: the out-of-fold predictions are resampled by
household (the small models stay fixed, as the audited model does in the other gates), and the gate fails only when
the whole interval lies above its threshold (:func:`~vroegsignaal.training.fairness_gates.verdict_of`).
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from vroegsignaal.schemas.dataset_config import FairnessGates
from vroegsignaal.training.fairness_gates import verdict_of
from vroegsignaal.training.fairness_inputs import (
    check_audit_columns,
    check_feature_dtypes,
    check_same_index,
    check_same_length,
    group_labels,
)
from vroegsignaal.training.fairness_metrics import auc_draws, bootstrap_weights, percentile_interval
from vroegsignaal.training.fairness_report import Estimate, FeatureImportance, ProxyResult

#: Rows used per attribute at most; small groups keep all their rows (the sample is filled up from the
#: smallest).
PROXY_MAX_ROWS = 5_000
PROXY_FOLDS = 3
PROXY_TOP_FEATURES = 5
#: Deliberately small and regularised: the question is what the features reveal, not the best possible
#: classifier; the whole check must stay within a few seconds (see the performance note in docs/fairness.md).
_PROXY_PARAMS = {
    "n_estimators": 40,
    "learning_rate": 0.15,
    "num_leaves": 7,
    "max_bin": 63,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "n_jobs": 1,
    "verbose": -1,
}


def check_proxies(
    *,
    features: pd.DataFrame,
    audit: pd.DataFrame,
    gates: FairnessGates,
    seed: int,
    households: np.ndarray | None = None,
    bootstrap_samples: int = 200,
    confidence: float = 0.95,
    max_rows: int = PROXY_MAX_ROWS,
    folds: int = PROXY_FOLDS,
    top_n: int = PROXY_TOP_FEATURES,
) -> list[ProxyResult]:
    """Cross-validated AUC of the features predicting each audit attribute, with its bootstrap interval, gated by
    ``gates.proxy_auc_max``.

    Parameters
    ----------
    features
        The model's feature matrix (numeric, boolean or ``category`` columns), indexed like ``audit``.
    audit
        One column per audit attribute (strings); missing values form the group ``'missing'``.
    gates
        Only ``proxy_auc_max`` is used; ``None`` reports the AUC with verdict ``'not_gated'``.
    seed
        Seeds the sample, the folds and the models; the same inputs give the same result.
    households
        Optional household (the dataset's id) per row. When households repeat, each household's rows are kept in
        one fold and a group is checked only with ``2 * folds`` households; with one row per household (or
        without it) rows are folded as before. The interval resamples households.
    bootstrap_samples, confidence
        Draws behind the AUC's interval and its level (the audit passes its config's); with 0 draws there is no
        interval and the verdict rests on the AUC alone.
    max_rows, folds, top_n
        Sample cap per attribute, number of cross-validation folds, number of features reported.

    Returns
    -------
    list[ProxyResult]
        One result per audit column, in column order. Groups with fewer than ``2 * folds`` households (rows,
        with one row per household) cannot be cross-validated; they are named in ``groups_left_out``. With fewer than two groups left the AUC is
        ``None`` and the verdict ``'insufficient_data'`` (``'not_gated'`` when the gate is off).
    """
    check_same_length(features=features, audit=audit)
    check_same_index(audit=audit, features=features)
    check_audit_columns(audit)
    check_feature_dtypes(features)
    if households is not None:
        check_same_length(features=features, households=households)
    codes = np.arange(len(features)) if households is None else pd.factorize(np.asarray(households))[0]
    # Folds by household only when households repeat, so data with one row per id are folded exactly as before.
    groups = codes if codes.size and codes.max() + 1 < codes.size else None
    return [
        _check_one(
            features,
            group_labels(audit, [column]),
            households=codes,
            groups=groups,
            attribute=str(column),
            threshold=gates.proxy_auc_max,
            seed=seed + position,
            bootstrap_samples=bootstrap_samples,
            confidence=confidence,
            max_rows=max_rows,
            folds=folds,
            top_n=top_n,
        )
        for position, column in enumerate(audit.columns)
    ]


def _check_one(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    households: np.ndarray,
    groups: np.ndarray | None,
    attribute: str,
    threshold: float | None,
    seed: int,
    bootstrap_samples: int,
    confidence: float,
    max_rows: int,
    folds: int,
    top_n: int,
) -> ProxyResult:
    sizes = pd.Series(households).groupby(labels.to_numpy()).nunique()
    left_out = tuple(sorted(str(group) for group, size in sizes.items() if size < 2 * folds))
    kept = sizes[sizes >= 2 * folds]
    if len(kept) < 2:
        return ProxyResult(
            attribute=attribute,
            auc=None,
            threshold=threshold,
            verdict="not_gated" if threshold is None else "insufficient_data",
            top_features=(),
            groups_left_out=left_out,
        )
    rng = np.random.default_rng(seed)
    rows = capped_sample(labels, keep=labels.isin(kept.index).to_numpy(), max_rows=max_rows, rng=rng)
    classes = sorted(str(group) for group in kept.index)
    target = pd.Categorical(labels.iloc[rows].astype(str), categories=classes).codes
    probabilities, gains = _out_of_fold(
        features.iloc[rows],
        target,
        groups=None if groups is None else groups[rows],
        n_classes=len(classes),
        folds=folds,
        seed=seed,
    )
    codes = range(len(classes))
    per_group = np.array([roc_auc_score(target == code, probabilities[:, code]) for code in codes])
    # With two groups both one-vs-rest AUCs are the same number; the smaller group is the one singled out.
    strongest = max(codes, key=lambda code: (round(per_group[code], 12), -int(kept[classes[code]])))
    draws = _macro_auc_draws(
        target, probabilities, households=households[rows], n_draws=bootstrap_samples, seed=seed
    )
    auc = Estimate(float(per_group.mean()), *percentile_interval(draws, confidence=confidence))
    return ProxyResult(
        attribute=attribute,
        auc=auc.value,
        ci_low=auc.ci_low,
        ci_high=auc.ci_high,
        threshold=threshold,
        verdict="not_gated" if threshold is None else verdict_of(auc, threshold, higher_is_better=False),
        top_features=_top_features(features.columns, gains, top_n=top_n),
        strongest_group=classes[strongest],
        strongest_group_auc=float(per_group[strongest]),
        groups_left_out=left_out,
    )


def _macro_auc_draws(
    target: np.ndarray, probabilities: np.ndarray, *, households: np.ndarray, n_draws: int, seed: int
) -> np.ndarray | None:
    """The macro one-vs-rest AUC of the out-of-fold ``probabilities`` in each of ``n_draws`` bootstrap draws of
    households (NaN in a draw that misses a group); ``None`` without draws."""
    if n_draws <= 0:
        return None
    clusters = pd.factorize(households)[0]
    chunks = [
        np.mean(
            [auc_draws(weights, y_true=(target == code).astype(np.float64), scores=probabilities[:, code])
             for code in range(probabilities.shape[1])],
            axis=0,
        )
        for weights in bootstrap_weights(len(target), n_draws=n_draws, seed=seed, clusters=clusters)
    ]
    return np.concatenate(chunks)


def capped_sample(
    labels: pd.Series, *, keep: np.ndarray, max_rows: int, rng: np.random.Generator
) -> np.ndarray:
    """Positions of at most ``max_rows`` kept rows, filled from the smallest group up (small groups whole)."""
    kept_positions = np.flatnonzero(keep)
    positions = pd.Series(kept_positions, index=labels.to_numpy()[kept_positions])
    if len(positions) <= max_rows:
        return np.sort(positions.to_numpy())
    by_group = sorted(positions.groupby(level=0), key=lambda item: len(item[1]))
    budget, chosen = max_rows, []
    for remaining, (_, group_rows) in zip(range(len(by_group), 0, -1), by_group, strict=True):
        take = min(len(group_rows), budget // remaining)
        chosen.append(rng.choice(group_rows.to_numpy(), size=take, replace=False))
        budget -= take
    return np.sort(np.concatenate(chosen))


def _out_of_fold(
    features: pd.DataFrame,
    target: np.ndarray,
    *,
    groups: np.ndarray | None,
    n_classes: int,
    folds: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold class probabilities (rows × classes) and the total split gain per feature.

    With ``groups`` (a household per row) every household's rows fall in one fold.
    """
    probabilities = np.zeros((len(target), n_classes))
    gains = np.zeros(features.shape[1])
    if groups is None:
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(
            np.zeros(len(target)), target
        )
    else:
        splits = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(
            np.zeros(len(target)), target, groups
        )
    for train, test in splits:
        model = lgb.LGBMClassifier(**_PROXY_PARAMS, random_state=seed)
        model.fit(features.iloc[train], target[train])
        # Whole households per fold can leave a rare group out of one training fold: its column stays 0 there.
        probabilities[np.ix_(test, model.classes_)] = model.predict_proba(features.iloc[test])
        gains += model.booster_.feature_importance(importance_type="gain")
    return probabilities, gains


def _top_features(columns: pd.Index, gains: np.ndarray, *, top_n: int) -> tuple[FeatureImportance, ...]:
    total = gains.sum()
    if total <= 0:
        return ()
    order = np.argsort(-gains, kind="stable")[:top_n]
    return tuple(FeatureImportance(str(columns[i]), float(gains[i] / total)) for i in order if gains[i] > 0)
