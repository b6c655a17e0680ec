"""Group metrics on tiny explicit data, and the vectorised bootstrap against fairlearn's MetricFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vroegsignaal.training import fairness_metrics
from vroegsignaal.training.fairness_metrics import (
    COUNTS,
    auc_draws,
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


def test_auc_draws_with_unit_weights_is_the_plain_auc_and_counts_a_row_drawn_twice_twice():
    weights = np.vstack([np.ones(Y.size), np.r_[2.0, np.ones(Y.size - 1)], np.r_[0.0, 0.0, np.ones(Y.size - 2)]])
    first, doubled, no_positive_kept = auc_draws(weights, y_true=Y, scores=SCORES)
    # Positives 0.9, 0.4, 0.7 against 0.4, 0.1, 0.7, 0.2, 0.2: 5 + 3.5 + 4.5 wins out of 15 pairs.
    assert first == pytest.approx(13 / 15)
    assert doubled == pytest.approx((2 * 5 + 3.5 + 4.5) / 20)  # the 0.9 positive counts twice
    assert no_positive_kept == pytest.approx(4.5 / 5)  # only the 0.7 positive is left


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


def _calibration_groups(
    seed: int, *, households: int, truth_factor: float, trials: int
) -> tuple[float, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """``trials`` groups of ``households`` scored like this project's models (most scores small), each with the
    labels and the bins of a large test set; the true probability is the score times ``truth_factor`` (1:
    calibrated). Also the true calibration error, from a million households."""
    rng = np.random.default_rng(seed)
    inner = np.quantile(rng.beta(0.6, 6, 100_000), np.linspace(0, 1, 11)[1:-1])

    def group(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scores = np.clip(rng.beta(0.6, 6, size), 1e-4, 1 - 1e-4)
        y = (rng.random(size) < np.clip(scores * truth_factor, 0, 1)).astype(float)
        return y, scores, np.searchsorted(inner, scores, side="right")

    _, big_scores, big_bins = group(1_000_000)
    truth = np.abs(np.bincount(big_bins, weights=np.clip(big_scores * truth_factor, 0, 1) - big_scores)).sum()
    return float(truth / big_scores.size), [group(households) for _ in range(trials)]


def _corrected(y: np.ndarray, scores: np.ndarray, bins: np.ndarray, seed: int) -> tuple[float, float, float, float]:
    """The plain calibration error of one group, and its corrected value and 95% interval (200 draws)."""
    labels = pd.Series(["g"] * y.size)
    point = point_metrics(
        y_true=y, scores=scores, selected=np.zeros(y.size, bool), bins=bins, labels=labels,
        metrics=["calibration_error"],
    )
    (draws,) = bootstrap_metrics(
        y_true=y, scores=scores, selected=np.zeros(y.size, bool), bins=bins, label_sets=[labels],
        metrics=["calibration_error"], n_draws=200, seed=seed,
    )
    corrected, corrected_draws = fairness_metrics.without_calibration_bias(point, draws)
    low, high = percentile_interval(corrected_draws["g"]["calibration_error"], confidence=0.95)
    return float(point.at["g", "calibration_error"]), float(corrected.at["g", "calibration_error"]), low, high


def test_the_bias_correction_reads_a_calibrated_small_group_as_less_miscalibrated():
    # Groups of 100 households and a calibrated model: the plain error reads 0.058 from chance alone, corrected
    # 0.041 (0.039–0.045 over six seeds, always about 0.7 times the plain reading).
    _, groups = _calibration_groups(11, households=100, truth_factor=1.0, trials=100)
    plain, corrected = zip(*(_corrected(y, s, b, seed)[:2] for seed, (y, s, b) in enumerate(groups)), strict=True)
    assert np.mean(plain) > 0.05
    assert np.mean(corrected) < 0.8 * np.mean(plain) and min(corrected) >= 0


@pytest.mark.parametrize("truth_factor", [0.7, 1.3], ids=["scores too high", "scores too low"])
def test_the_corrected_interval_holds_the_true_calibration_error(truth_factor: float):
    # Groups of 300 households whose true error is 0.027 (scores 1.43× or 0.77× the truth): the plain interval
    # held it in about a third of the trials, the corrected one in 52 and 56 of 60 here (46–57 over six seeds);
    # the plain value reads 0.041–0.043, the corrected 0.032, a third as far off or less, for scores too high and
    # too low alike.
    truth, groups = _calibration_groups(3, households=300, truth_factor=truth_factor, trials=60)
    inside, plain, corrected = 0, [], []
    for seed, (y, scores, bins) in enumerate(groups):
        value, corrected_value, low, high = _corrected(y, scores, bins, seed)
        inside += low <= truth <= high
        plain.append(value)
        corrected.append(corrected_value)
    assert inside / len(groups) >= 0.75
    assert abs(np.mean(corrected) - truth) < 0.5 * abs(np.mean(plain) - truth)


def test_the_bias_correction_shifts_value_and_draws_by_the_draws_excess():
    half = fairness_metrics.MIN_DRAWS_FOR_BIAS // 2 + 1
    point = pd.DataFrame({"size": [10, 10], "calibration_error": [0.05, 0.02]}, index=["a", "b"])
    draws = {
        "a": {
            "calibration_error": np.concatenate([np.full(half, 0.06), np.full(half, 0.08), [np.nan]]),
            "size": np.ones(2 * half + 1),
        },
        "b": {"calibration_error": np.concatenate([np.full(half, 0.05), np.full(half, 0.07)])},
    }
    corrected, corrected_draws = fairness_metrics.without_calibration_bias(point, draws)
    # a: the draws' mean 0.07 lies 0.02 above the estimate; b: 0.04 above, which would take it below 0.
    assert corrected.at["a", "calibration_error"] == pytest.approx(0.03)
    assert corrected.at["b", "calibration_error"] == 0.0
    np.testing.assert_allclose(
        corrected_draws["a"]["calibration_error"], [*[0.02] * half, *[0.04] * half, np.nan], atol=1e-12
    )
    np.testing.assert_allclose(corrected_draws["b"]["calibration_error"], 0.0, atol=1e-12)
    assert corrected_draws["a"]["size"] is draws["a"]["size"]  # other metrics untouched
    assert point.at["a", "calibration_error"] == 0.05  # the inputs are not changed


def test_bins_must_follow_the_score():
    with pytest.raises(ValueError, match="must not decrease"):
        prepare_group(
            np.arange(3), y_true=np.zeros(3), scores=np.array([0.1, 0.2, 0.3]), selected=np.zeros(3),
            bins=np.array([1, 0, 1]), n_bins=2,
        )


def test_the_bootstrap_calibration_error_handles_bins_a_group_does_not_have():
    # Bins 0, 3 and 7 of twelve: the empty ones add nothing, and unit weights give the plain value.
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.0])
    scores = np.array([0.1, 0.2, 0.5, 0.6, 0.9])
    bins = np.array([0, 0, 3, 3, 7])
    group = prepare_group(np.arange(5), y_true=y, scores=scores, selected=np.zeros(5), bins=bins, n_bins=12)
    weighted = weighted_group_metrics(np.ones((1, 5)), group, ["calibration_error"])["calibration_error"][0]
    assert weighted == pytest.approx(fairness_metrics.calibration_error(y, scores, bins=bins))
    assert weighted == pytest.approx((0.7 + 0.1 + 0.9) / 5)


def test_too_few_draws_leave_the_calibration_error_as_it_is():
    point = pd.DataFrame({"calibration_error": [0.05]}, index=["a"])
    draws = {"a": {"calibration_error": np.full(fairness_metrics.MIN_DRAWS_FOR_BIAS - 1, 0.09)}}
    corrected, corrected_draws = fairness_metrics.without_calibration_bias(point, draws)
    assert corrected.at["a", "calibration_error"] == 0.05
    np.testing.assert_array_equal(corrected_draws["a"]["calibration_error"], draws["a"]["calibration_error"])
