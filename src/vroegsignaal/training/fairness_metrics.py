"""Group metrics of the fairness audit: values by fairlearn's ``MetricFrame``, intervals by bootstrap.

Why our own bootstrap: fairlearn 0.15's ``MetricFrame(n_boot=..., ci_quantiles=...)`` resamples a pandas frame
and re-runs every metric function per group per draw; for the default audit (ten attribute sets, 200 draws)
that takes minutes. Here every draw is a vector of row multiplicities, drawn once and reused for every
attribute, group and metric, and each metric is a weighted sum over the rows of a group — so a group's 200
draws cost a few matrix products. With unit weights these formulas reproduce the ``MetricFrame`` values
exactly (a test checks it). The calibration error is the one value the bootstrap then changes: its bias, which
the draws measure, is taken off (:func:`without_calibration_bias`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from sklearn.metrics import roc_auc_score

#: Number of score bins (equal-mass over the whole test set, shared by every group) for the calibration error.
CALIBRATION_BINS = 10
#: Fewest bootstrap draws (of a group) from which its calibration error's bias is estimated: with fewer, the
#: estimate of the bias is too noisy to subtract (with 5 draws a group of 150 read 0.013, with 1 draw 0.0; its
#: plain error was 0.082), and the plain value is reported. The default is 200.
MIN_DRAWS_FOR_BIAS = 50
#: Upper bound on the floats held by one chunk of bootstrap weights (draws × rows), to bound memory (~32 MB).
_CHUNK_CELLS = 4_000_000
#: Counts behind each metric: a group is judged on a metric only when each of these reaches
#: ``min_group_positives``.
DENOMINATORS: Mapping[str, tuple[str, ...]] = {
    "recall": ("positives",),
    "false_positive_rate": ("negatives",),
    "precision": ("selected",),
    "auc": ("positives", "negatives"),
}
COUNTS: tuple[str, ...] = ("size", "positives", "negatives", "selected")


# --- point estimates: plain metric functions run per group by MetricFrame -----------------------------------
# Decision metrics judge the selection at capacity (``y_pred`` = selected, 0/1); ranking metrics judge the
# score itself (``y_pred`` = calibrated probability). Each kind gets its own MetricFrame, so every function
# needs only the arguments it uses: MetricFrame's cost grows with the number of arguments it hands out per
# row.


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def recall(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of positives that are selected (true-positive rate, equal opportunity)."""
    return _ratio(float(np.sum(y_true * y_pred)), float(np.sum(y_true)))


def false_positive_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of negatives that are selected anyway (needless contact)."""
    return _ratio(float(np.sum((1 - y_true) * y_pred)), float(np.sum(1 - y_true)))


def selection_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of the group inside the team's capacity."""
    return _ratio(float(np.sum(y_pred)), float(len(y_pred)))


def precision(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of the selected households that are positive."""
    return _ratio(float(np.sum(y_true * y_pred)), float(np.sum(y_pred)))


def auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Area under the ROC curve of the scores within the group; NaN when the group has a single class."""
    if np.all(y_true == y_true[0]):
        return float("nan")
    return float(roc_auc_score(y_true, y_pred))


def calibration_error(y_true: np.ndarray, y_pred: np.ndarray, *, bins: np.ndarray) -> float:
    """Expected calibration error: the row-weighted mean over score bins of |observed rate − mean score|."""
    residual = np.bincount(bins, weights=y_true - y_pred)
    return _ratio(float(np.abs(residual).sum()), float(len(y_true)))


DECISION_METRICS = {
    "recall": recall,
    "false_positive_rate": false_positive_rate,
    "selection_rate": selection_rate,
    "precision": precision,
}
RANKING_METRICS = {"auc": auc, "calibration_error": calibration_error}


def calibration_bins(scores: np.ndarray, *, n_bins: int = CALIBRATION_BINS) -> np.ndarray:
    """Bin index per row: equal-mass score bins over the whole test set, so every group is binned alike.

    Equal-mass bins matter when most scores are small (a base rate near 7%): equal-width bins would put nearly
    every household in the first bin and hide miscalibration among the high scores that decide who is
    contacted.
    """
    inner = np.unique(np.quantile(scores, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(inner, scores, side="right").astype(np.intp)


def point_metrics(
    *,
    y_true: np.ndarray,
    scores: np.ndarray,
    selected: np.ndarray,
    bins: np.ndarray,
    labels: pd.Series,
    metrics: Sequence[str],
) -> pd.DataFrame:
    """One row per group (index: group label): the counts of :data:`COUNTS` and the requested metrics.

    Decision and ranking metrics come from fairlearn's ``MetricFrame``; counts, mean score and observed rate
    are plain tallies.
    """
    parts = [_tallies(y_true=y_true, scores=scores, selected=selected, labels=labels)]
    decision = {name: DECISION_METRICS[name] for name in metrics if name in DECISION_METRICS}
    if decision:
        parts.append(_by_group(decision, y_true=y_true, y_pred=selected.astype(np.float64), labels=labels))
    ranking = {name: RANKING_METRICS[name] for name in metrics if name in RANKING_METRICS}
    if ranking:
        params = {"calibration_error": {"bins": bins}} if "calibration_error" in ranking else None
        parts.append(_by_group(ranking, y_true=y_true, y_pred=scores, labels=labels, sample_params=params))
    frame = pd.concat(parts, axis=1)
    return frame[[*COUNTS, *(name for name in metrics if name in frame.columns)]]


def _by_group(
    functions: Mapping[str, object],
    *,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    labels: pd.Series,
    sample_params: dict[str, dict[str, np.ndarray]] | None = None,
) -> pd.DataFrame:
    frame = MetricFrame(
        metrics=dict(functions),
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=labels,
        sample_params=sample_params,
    )
    by_group = frame.by_group
    return by_group.set_axis([str(label) for label in by_group.index], axis=0)


def _tallies(
    *, y_true: np.ndarray, scores: np.ndarray, selected: np.ndarray, labels: pd.Series
) -> pd.DataFrame:
    columns = {
        "size": 1.0,
        "positives": y_true,
        "negatives": 1 - y_true,
        "selected": selected.astype(np.float64),
        "score": scores,
    }
    frame = pd.DataFrame(columns, index=labels.astype(str).to_numpy())
    sums = frame.groupby(level=0, sort=False).sum()
    tallies = sums[list(COUNTS)].round().astype(np.int64)
    tallies["mean_score"] = sums["score"] / sums["size"]
    tallies["observed_rate"] = sums["positives"] / sums["size"]
    return tallies


def household_tallies(
    *, households: np.ndarray, y_true: np.ndarray, selected: np.ndarray, labels: pd.Series
) -> pd.DataFrame:
    """One row per group (index: group label): the :data:`COUNTS` as distinct households instead of rows.

    ``size`` is the number of households with a row in the group; ``positives``, ``negatives`` and
    ``selected`` count the households with at least one positive, negative or selected row there. A household
    signalled in five test months is one household, not five: these counts, not the rows, decide whether a
    group has enough data to be judged. With one row per household they equal the row counts.
    """
    frame = pd.DataFrame({"group": labels.astype(str).to_numpy(), "household": np.asarray(households)})
    parts = {
        "size": np.ones(len(frame), dtype=bool),
        "positives": y_true == 1,
        "negatives": y_true == 0,
        "selected": selected.astype(bool),
    }
    counts = {
        name: frame[rows].drop_duplicates().groupby("group", sort=False).size()
        for name, rows in parts.items()
    }
    groups = pd.unique(frame["group"])
    return pd.DataFrame(counts).reindex(groups).fillna(0).astype(np.int64)[list(COUNTS)]


# --- the vectorised bootstrap -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRows:
    """The rows of one group, sorted by score, with what the weighted formulas need precomputed."""

    rows: np.ndarray
    y: np.ndarray
    scores: np.ndarray
    selected: np.ndarray
    residual: np.ndarray  # y − score
    bin_bounds: np.ndarray  # bin b holds positions bin_bounds[b]:bin_bounds[b + 1] (bins follow the score)
    positive_columns: np.ndarray  # positions (within the sorted group) of the positives
    tie_start: np.ndarray  # for each positive, the first position holding its score
    tie_end: np.ndarray  # for each positive, the last position holding its score


def prepare_group(
    rows: np.ndarray,
    *,
    y_true: np.ndarray,
    scores: np.ndarray,
    selected: np.ndarray,
    bins: np.ndarray,
    n_bins: int,
) -> GroupRows:
    """Sort one group's ``rows`` by score; precompute labels, selection, calibration residuals and ties.

    ``bins`` must not decrease as the score rises (:func:`calibration_bins`), so that each bin is a run of the
    sorted rows: a draw's residual per bin is then a product over a slice, with no rows × bins matrix in memory."""
    order = rows[np.argsort(scores[rows], kind="stable")]
    y, s, b = y_true[order], scores[order], bins[order]
    if np.any(np.diff(b) < 0):
        raise ValueError("calibration bins must not decrease as the score rises")
    positives = np.flatnonzero(y == 1)
    return GroupRows(
        rows=order,
        y=y,
        scores=s,
        selected=selected[order],
        residual=y - s,
        bin_bounds=np.searchsorted(b, np.arange(n_bins + 1)),
        positive_columns=positives,
        tie_start=np.searchsorted(s, s[positives], side="left"),
        tie_end=np.searchsorted(s, s[positives], side="right") - 1,
    )


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.full(numerator.shape, np.nan), where=denominator > 0)


def weighted_group_metrics(
    weights: np.ndarray, group: GroupRows, metrics: Sequence[str]
) -> dict[str, np.ndarray]:
    """Every metric (and count) of one group under each row of ``weights`` (draws × rows of the test set)."""
    w = weights[:, group.rows]
    size = w.sum(axis=1)
    positives = w @ group.y
    selected = w @ group.selected
    true_positives = w @ (group.y * group.selected)
    negatives = size - positives
    values = {
        "size": size,
        "positives": positives,
        "negatives": negatives,
        "selected": selected,
        "recall": _safe_divide(true_positives, positives),
        "false_positive_rate": _safe_divide(selected - true_positives, negatives),
        "selection_rate": _safe_divide(selected, size),
        "precision": _safe_divide(true_positives, selected),
        "mean_score": _safe_divide(w @ group.scores, size),
        "observed_rate": _safe_divide(positives, size),
    }
    if "calibration_error" in metrics:
        bounds = group.bin_bounds
        gaps = sum(
            np.abs(w[:, start:end] @ group.residual[start:end])
            for start, end in zip(bounds[:-1], bounds[1:], strict=True)
        )
        values["calibration_error"] = _safe_divide(gaps, size)
    if "auc" in metrics:
        values["auc"] = _weighted_auc(w, group, positives=positives, negatives=negatives)
    return {name: values[name] for name in (*COUNTS, *metrics)}


def _weighted_auc(
    w: np.ndarray, group: GroupRows, *, positives: np.ndarray, negatives: np.ndarray
) -> np.ndarray:
    """Mann–Whitney AUC with row weights: P(positive's score > negative's score), ties counting one half."""
    negative_weight = w * (1 - group.y)
    below_inclusive = np.cumsum(negative_weight, axis=1)
    below_exclusive = below_inclusive - negative_weight
    strictly_below = below_exclusive[:, group.tie_start]
    tied = below_inclusive[:, group.tie_end] - strictly_below
    wins = (w[:, group.positive_columns] * (strictly_below + 0.5 * tied)).sum(axis=1)
    return _safe_divide(wins, positives * negatives)


def auc_draws(weights: np.ndarray, *, y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The AUC of ``scores`` for the 0/1 ``y_true`` under each row of ``weights`` (draws × rows); NaN in a draw
    without both classes. The same weighted Mann–Whitney formula as a group's AUC, over all the rows."""
    rows = np.arange(len(y_true))
    everything = prepare_group(
        rows, y_true=y_true, scores=scores, selected=np.zeros(len(rows)), bins=np.zeros(len(rows), dtype=np.intp),
        n_bins=1,
    )
    w = weights[:, everything.rows]
    positives = w @ everything.y
    return _weighted_auc(w, everything, positives=positives, negatives=w.sum(axis=1) - positives)


def bootstrap_weights(
    n_rows: int, *, n_draws: int, seed: int, clusters: np.ndarray | None = None
) -> Iterator[np.ndarray]:
    """Bootstrap draws in chunks of rows: each row counts how often each test row was drawn.

    A draw takes ``n_rows`` rows with replacement; with ``clusters`` (a code per row, 0..n-1: the household of a
    household-month row) it takes clusters with replacement and every row of a drawn cluster with it, so rows of the
    same household, which are not independent, do not narrow the interval. The draws are made once per audit and
    shared by every attribute, group and metric; chunking only bounds memory and does not change the draws.
    """
    rng = np.random.default_rng(seed)
    n_units = int(clusters.max()) + 1 if clusters is not None and len(clusters) else n_rows
    per_chunk = max(1, min(n_draws, _CHUNK_CELLS // max(n_rows, 1)))
    done = 0
    while done < n_draws:
        size = min(per_chunk, n_draws - done)
        chunk = np.empty((size, n_rows))
        for draw in range(size):
            counts = np.bincount(rng.integers(0, n_units, size=n_units), minlength=n_units)
            chunk[draw] = counts if clusters is None else counts[clusters]
        done += size
        yield chunk


def bootstrap_metrics(
    *,
    y_true: np.ndarray,
    scores: np.ndarray,
    selected: np.ndarray,
    bins: np.ndarray,
    label_sets: Sequence[pd.Series],
    metrics: Sequence[str],
    n_draws: int,
    seed: int,
    clusters: np.ndarray | None = None,
) -> list[dict[str, dict[str, np.ndarray]]]:
    """Per label set, group and metric: the ``n_draws`` bootstrap values (NaN where a draw has none).

    All label sets are evaluated on the same draws, so an attribute and its intersections share their
    uncertainty. ``clusters`` resamples whole households (see :func:`bootstrap_weights`).
    """
    n_bins = int(bins.max()) + 1 if bins.size else 1
    sel = selected.astype(np.float64)
    groups = [
        {
            str(label): prepare_group(
                rows, y_true=y_true, scores=scores, selected=sel, bins=bins, n_bins=n_bins
            )
            for label, rows in rows_by_label(labels).items()
        }
        for labels in label_sets
    ]
    collected: list[dict[str, dict[str, list[np.ndarray]]]] = [
        {label: {} for label in group_set} for group_set in groups
    ]
    for weights in bootstrap_weights(len(y_true), n_draws=n_draws, seed=seed, clusters=clusters):
        for group_set, sink in zip(groups, collected, strict=True):
            for label, group in group_set.items():
                for name, draws in weighted_group_metrics(weights, group, metrics).items():
                    sink[label].setdefault(name, []).append(draws)
    return [
        {
            label: {name: np.concatenate(parts) for name, parts in by_metric.items()}
            for label, by_metric in sink.items()
        }
        for sink in collected
    ]


def without_calibration_bias(
    point: pd.DataFrame, draws: Mapping[str, Mapping[str, np.ndarray]]
) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """The groups' calibration errors and their bootstrap draws with the estimator's bias taken out.

    The binned calibration error reads high: chance alone leaves gaps between observed and predicted positives
    in every bin, so a calibrated model reads ~0.058 in a group of 100 households (ten bins, most scores small),
    and a small group looks miscalibrated for being small. Resampling the group for its interval adds the same
    again, so the interval lay above the true error in most trials. The bootstrap measures that bias: the draws'
    mean lies above the estimate by about as much as the estimate lies above the true error (Efron's bias
    correction; the library of Kumar, Liang & Ma, "Verified uncertainty calibration", NeurIPS 2019, debiases this
    error likewise, as 2 × estimate − the mean of resampled errors, resampling each bin's labels). So the value
    becomes ``estimate − bias`` and every draw ``draw − 2·bias`` (the interval is then centred on the corrected
    value), none below 0. Groups with fewer than :data:`MIN_DRAWS_FOR_BIAS` draws, and other metrics, are
    returned as they are.

    Simulated (``docs/fairness.md``): chance is reduced, not removed (a calibrated group of 100 reads ~0.041
    instead of ~0.058); where a group is miscalibrated the corrected value is right on average over trials to
    within ~0.005 from 300 households on (a single group's value still scatters by about ±0.012), and scores too
    high and too low are read alike. Two estimators that take chance out inside each bin (the squared gap minus
    a variance, then the root) were tried first and refused: the root reads a real gap of moderate size too low,
    and with the model's own variance, score × (1 − score), a group whose risk is overestimated read as better
    calibrated than it is (a true error of 0.13 passed a 0.1 gate in a third of the trials).
    """
    metric = "calibration_error"
    corrected = point.copy()
    result = {group: dict(by_metric) for group, by_metric in draws.items()}
    if metric not in point.columns:
        return corrected, result
    for group, by_metric in result.items():
        group_draws = by_metric.get(metric)
        value = float(point.at[group, metric]) if group in point.index else float("nan")
        finite = group_draws[np.isfinite(group_draws)] if group_draws is not None else np.empty(0)
        if finite.size < MIN_DRAWS_FOR_BIAS or not np.isfinite(value):
            continue
        bias = float(finite.mean()) - value
        corrected.at[group, metric] = max(value - bias, 0.0)
        by_metric[metric] = np.maximum(group_draws - 2 * bias, 0.0)  # NaN (a draw without the group) stays NaN
    return corrected, result


def rows_by_label(labels: pd.Series) -> dict[str, np.ndarray]:
    """The row positions of each distinct label, in order of first appearance."""
    codes, uniques = pd.factorize(labels)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {str(uniques[i]): order[bounds[i] : bounds[i + 1]] for i in range(len(uniques))}


def percentile_interval(draws: np.ndarray | None, *, confidence: float) -> tuple[float | None, float | None]:
    """The percentile interval of ``draws`` at ``confidence``; ``(None, None)`` when no draw is finite."""
    if draws is None:
        return None, None
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return None, None
    tail = (1 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def pair_ratio(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``low / high`` elementwise; 1 where both are 0 (no disparity), NaN where only ``high`` is 0."""
    ratio = _safe_divide(low, high)
    return np.where((high == 0) & (low == 0), 1.0, ratio)
