"""Group metrics on tiny explicit data, and the vectorised bootstrap against fairlearn's MetricFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vroegsignaal.training import fairness_metrics
from vroegsignaal.training.fairness_metrics import (
    COUNTS,
    bootstrap_metrics,
    bootstrap_weights,
    calibration_bins,
    household_tallies,
    pair_ratio,
    percentile_interval,
    point_metrics,
    prepare_group,
    rows_by_label,
    weighted_group_metrics,
)
from vroegsignaal.training.fairness_report import GROUP_METRICS

# Eight households of two groups; scores with ties (as isotonic calibration makes them).
Y = np.array([1, 1, 0, 0, 1, 0, 0, 0], dtype=float)
SCORES = np.array([0.9, 0.4, 0.4, 0.1, 0.7, 0.7, 0.2, 0.2])
SELECTED = np.array([True, False, True, False, True, True, False, False])
LABELS = pd.Series(["a", "a", "a", "a", "b", "b", "b", "b"], name="origin")


def tiny_point_metrics() -> pd.DataFrame:
    return point_metrics(
        y_true=Y,
        scores=SCORES,
        selected=SELECTED,
        bins=np.zeros(Y.size, dtype=np.intp),
        labels=LABELS,
        metrics=list(GROUP_METRICS),
    )


def test_metrics_on_tiny_explicit_groups():
    frame = tiny_point_metrics()
    a, b = frame.loc["a"], frame.loc["b"]
    assert (a["size"], a["positives"], a["negatives"], a["selected"]) == (4, 2, 2, 2)
    assert a["recall"] == 0.5  # one of two positives selected
    assert a["false_positive_rate"] == 0.5  # one of two negatives selected
    assert a["selection_rate"] == 0.5
    assert a["precision"] == 0.5
    # Positives 0.9 and 0.4 against negatives 0.4 and 0.1: wins 1 + 1 + 0.5 (tie) + 1 out of 4 pairs.
    assert a["auc"] == pytest.approx(3.5 / 4)
    assert a["mean_score"] == pytest.approx(0.45)
    assert a["observed_rate"] == 0.5
    # One bin: |observed − predicted| = |2 − 1.8| / 4.
    assert a["calibration_error"] == pytest.approx(0.05)
    assert b["recall"] == 1.0 and b["false_positive_rate"] == pytest.approx(1 / 3)
    assert b["auc"] == pytest.approx(2.5 / 3)  # 0.7 ties one negative, beats two


def test_group_without_positives_has_undefined_recall_and_auc():
    frame = point_metrics(
        y_true=np.zeros(4),
        scores=np.array([0.1, 0.2, 0.3, 0.4]),
        selected=np.array([True, False, False, False]),
        bins=np.zeros(4, dtype=np.intp),
        labels=pd.Series(["a"] * 4),
        metrics=list(GROUP_METRICS),
    )
    assert np.isnan(frame.loc["a", "recall"]) and np.isnan(frame.loc["a", "auc"])
    assert frame.loc["a", "false_positive_rate"] == 0.25


def test_weighted_formulas_with_unit_weights_reproduce_metricframe():
    rng = np.random.default_rng(5)
    n = 600
    scores = np.round(rng.beta(2, 5, size=n), 2)  # rounding makes many ties
    y = (rng.random(n) < scores).astype(float)
    selected = scores >= np.quantile(scores, 0.8)
    labels = pd.Series(rng.choice(["a", "b", "c"], size=n))
    bins = calibration_bins(scores)
    point = point_metrics(
        y_true=y, scores=scores, selected=selected, bins=bins, labels=labels, metrics=list(GROUP_METRICS)
    )
    for label, rows in rows_by_label(labels).items():
        group = prepare_group(
            rows,
            y_true=y,
            scores=scores,
            selected=selected.astype(float),
            bins=bins,
            n_bins=int(bins.max()) + 1,
        )
        weighted = weighted_group_metrics(np.ones((1, n)), group, list(GROUP_METRICS))
        for name in (*COUNTS, *GROUP_METRICS):
            assert weighted[name][0] == pytest.approx(point.loc[label, name], abs=1e-12), (label, name)


def test_weighting_a_row_twice_equals_duplicating_it():
    rows = np.arange(Y.size)
    bins = np.zeros(Y.size, np.intp)
    group = prepare_group(rows, y_true=Y, scores=SCORES, selected=SELECTED.astype(float), bins=bins, n_bins=1)
    weights = np.ones((1, Y.size))
    weights[0, 1] = 2  # the positive with score 0.4, tied with a negative
    weighted = weighted_group_metrics(weights, group, list(GROUP_METRICS))
    duplicated = point_metrics(
        y_true=np.append(Y, Y[1]),
        scores=np.append(SCORES, SCORES[1]),
        selected=np.append(SELECTED, SELECTED[1]),
        bins=np.zeros(Y.size + 1, np.intp),
        labels=pd.Series(["all"] * (Y.size + 1)),
        metrics=list(GROUP_METRICS),
    )
    for name in GROUP_METRICS:
        assert weighted[name][0] == pytest.approx(duplicated.loc["all", name]), name


def test_bootstrap_weights_resample_every_row_and_do_not_depend_on_chunking(monkeypatch):
    whole = np.vstack(list(bootstrap_weights(50, n_draws=7, seed=3)))
    assert whole.shape == (7, 50)
    assert (whole.sum(axis=1) == 50).all()
    monkeypatch.setattr(fairness_metrics, "_CHUNK_CELLS", 100)  # two draws per chunk
    chunks = list(bootstrap_weights(50, n_draws=7, seed=3))
    assert [c.shape[0] for c in chunks] == [2, 2, 2, 1]
    np.testing.assert_array_equal(np.vstack(chunks), whole)


def test_bootstrap_draws_are_shared_across_label_sets():
    labels = pd.Series(["x"] * Y.size)
    draws = bootstrap_metrics(
        y_true=Y,
        scores=SCORES,
        selected=SELECTED,
        bins=np.zeros(Y.size, np.intp),
        label_sets=[labels, labels.copy()],
        metrics=["recall"],
        n_draws=25,
        seed=1,
    )
    np.testing.assert_array_equal(draws[0]["x"]["recall"], draws[1]["x"]["recall"])
    assert draws[0]["x"]["size"].tolist() == [Y.size] * 25


def test_percentile_interval_ignores_undefined_draws_and_has_none_without_any():
    assert percentile_interval(np.array([np.nan, 1.0, 2.0, 3.0]), confidence=0.5) == (1.5, 2.5)
    assert percentile_interval(np.array([np.nan, np.nan]), confidence=0.95) == (None, None)
    assert percentile_interval(None, confidence=0.95) == (None, None)


def test_pair_ratio_treats_two_zeros_as_equal_and_a_zero_denominator_as_undefined():
    ratio = pair_ratio(np.array([0.0, 0.5, 0.3]), np.array([0.0, 0.0, 0.6]))
    assert ratio[0] == 1.0 and np.isnan(ratio[1]) and ratio[2] == pytest.approx(0.5)


def test_calibration_bins_hold_equal_shares_of_households():
    scores = np.linspace(0, 0.3, 1000) ** 2  # skewed towards small scores, like a 7% base rate
    counts = np.bincount(calibration_bins(scores, n_bins=10))
    assert counts.size == 10 and counts.min() >= 99 and counts.max() <= 101


def test_clustered_draws_take_whole_households():
    clusters = np.array([0, 0, 0, 1, 2, 2])
    for draw in np.vstack(list(bootstrap_weights(6, n_draws=30, seed=4, clusters=clusters))):
        assert draw[0] == draw[1] == draw[2] and draw[4] == draw[5]
        assert draw[[0, 3, 4]].sum() == 3  # three households drawn, each with all its rows


def test_rows_repeated_per_household_do_not_narrow_the_interval_when_households_are_drawn():
    """Each household's row three times over (a household signalled in three months): drawing rows would take the
    copies for independent evidence and narrow the recall interval by about √3; drawing households does not."""
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.3
    selected = y & (rng.random(400) < 0.7) | (~y & (rng.random(400) < 0.1))
    repeated = {"y_true": np.tile(y, 3).astype(int), "selected": np.tile(selected, 3)}

    def width(clusters):  # noqa: ANN001, ANN202
        draws = bootstrap_metrics(
            **repeated, scores=np.full(1200, 0.5), bins=np.zeros(1200, np.intp), label_sets=[pd.Series(["x"] * 1200)],
            metrics=["recall"], n_draws=400, seed=2, clusters=clusters,
        )[0]["x"]["recall"]
        return np.diff(np.percentile(draws, [2.5, 97.5]))[0]

    rows, households = width(None), width(np.tile(np.arange(400), 3))
    assert households > 1.5 * rows


def test_household_tallies_count_each_household_once_in_each_part_of_its_group():
    # Group a: household 1 in three months (2 positive rows, 1 negative, 2 selected), household 2 once (negative).
    # Group b: household 3 in two months (1 positive, 1 negative, both selected), household 4 in two (negative).
    households = np.array([1, 1, 1, 2, 3, 3, 4, 4])
    counts = household_tallies(households=households, y_true=Y, selected=SELECTED, labels=LABELS)
    assert counts.to_dict("index") == {
        "a": {"size": 2, "positives": 1, "negatives": 2, "selected": 1},
        "b": {"size": 2, "positives": 1, "negatives": 2, "selected": 1},
    }
    assert list(counts.columns) == list(COUNTS)


def test_household_tallies_with_one_row_per_household_equal_the_row_tallies():
    point = tiny_point_metrics()
    counts = household_tallies(households=np.arange(Y.size), y_true=Y, selected=SELECTED, labels=LABELS)
    assert counts.equals(point[list(COUNTS)])
