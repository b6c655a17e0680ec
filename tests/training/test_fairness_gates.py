"""Gate verdicts at the edges and the sentences behind them, on hand-made group results."""

from __future__ import annotations

import pytest

from vroegsignaal.schemas.dataset_config import FairnessGates
from vroegsignaal.training.fairness_gates import GateContext, MetricComparison, evaluate_gates
from vroegsignaal.training.fairness_report import Estimate, GroupAudit

COUNTS = {
    "dutch": {"size": 2000, "positives": 300, "negatives": 1700, "selected": 400},
    "europe": {"size": 500, "positives": 80, "negatives": 420, "selected": 90},
    "other": {"size": 30, "positives": 4, "negatives": 26, "selected": 5},
}


def make_context(
    metric: str,
    values: dict[str, Estimate],
    ratio: Estimate,
    *,
    judged=("dutch", "europe"),
    households: dict[str, dict[str, int]] = COUNTS,
) -> GateContext:
    """A context over the groups of ``values``; ``households`` are their distinct households (default: one row
    each)."""
    groups = {
        name: GroupAudit(
            group=name,
            size=COUNTS[name]["size"],
            positives=COUNTS[name]["positives"],
            households=households[name]["size"],
            positive_households=households[name]["positives"],
            judgeable=name in judged,
            metrics={metric: values[name]},
        )
        for name in values
    }
    ranked = sorted(judged, key=lambda g: values[g].value)
    comparison = MetricComparison(
        metric=metric,
        judged=tuple(judged),
        too_small=tuple(g for g in values if g not in judged),
        low=ranked[0] if ranked else None,
        high=ranked[-1] if ranked else None,
        difference=Estimate(None),
        ratio=ratio,
    )
    return GateContext(
        attribute="origin",
        groups=groups,
        counts=COUNTS,
        household_counts=households,
        comparisons={metric: comparison},
        min_group_size=100,
        min_group_positives=20,
        confidence=0.95,
    )


ONLY_RECALL = FairnessGates(recall_ratio_min=0.8, calibration_error_max=None, proxy_auc_max=None)


def test_ratio_exactly_at_the_threshold_passes_and_a_wide_interval_is_called_uncertain():
    values = {
        "dutch": Estimate(0.5, 0.45, 0.55),
        "europe": Estimate(0.4, 0.3, 0.5),
        "other": Estimate(0.25, 0.0, 0.75),
    }
    (gate,) = evaluate_gates(make_context("recall", values, Estimate(0.8, 0.6, 1.05)), ONLY_RECALL)
    assert gate.verdict == "pass" and gate.value == 0.8 and (gate.ci_low, gate.ci_high) == (0.6, 1.05)
    assert gate.reason == (
        "Recall of europe (n=500, 80 positives; recall 0.40, 95% CI 0.30–0.50) is 0.80 × that of dutch "
        "(n=2,000, 300 positives; recall 0.50, 95% CI 0.45–0.55). The gate requires a ratio (lowest / "
        "highest) of at least 0.80, so it passes. 95% CI of the ratio: 0.60–1.05. The interval crosses the "
        "threshold: on this data the breach is neither shown nor ruled out, so the verdict is uncertain; weigh "
        "it, or collect more data. Too small to judge (each needs at least 100 households and 20 positives), "
        "reported but not gated: other (n=30, 4 positives)."
    )


def test_false_positive_gate_reads_as_needless_contact_even_when_one_group_has_none():
    values = {"dutch": Estimate(0.0, 0.0, 0.01), "europe": Estimate(0.1, 0.07, 0.13)}
    gates = FairnessGates(
        recall_ratio_min=None,
        false_positive_rate_ratio_min=0.8,
        calibration_error_max=None,
        proxy_auc_max=None,
    )
    (gate,) = evaluate_gates(make_context("false_positive_rate", values, Estimate(0.0, 0.0, 0.1)), gates)
    assert gate.verdict == "fail" and gate.metric == "false_positive_rate_ratio"
    assert gate.reason.startswith(
        "False-positive rate of europe (n=500, 420 negatives; false-positive rate 0.10, 95% CI 0.07–0.13) is "
        "above zero while that of dutch"
    )
    assert "only households in europe without the outcome get needless contact" in gate.reason


def test_no_judgeable_group_leaves_calibration_and_ratio_gates_without_a_verdict():
    values = {"other": Estimate(0.02, 0.0, 0.1)}
    gates = FairnessGates(recall_ratio_min=None, calibration_error_max=0.1, proxy_auc_max=None)
    (gate,) = evaluate_gates(make_context("calibration_error", values, Estimate(None), judged=()), gates)
    assert gate.verdict == "insufficient_data" and gate.value is None
    assert gate.reason.startswith("Calibration error cannot be judged for origin: the gate needs a group")
    assert "other (n=30)" in gate.reason


def test_worst_calibrated_group_decides_the_calibration_gate():
    values = {"dutch": Estimate(0.03, 0.02, 0.04), "europe": Estimate(0.14, 0.11, 0.17)}
    gates = FairnessGates(recall_ratio_min=None, calibration_error_max=0.1, proxy_auc_max=None)
    (gate,) = evaluate_gates(make_context("calibration_error", values, Estimate(0.25)), gates)
    assert gate.verdict == "fail" and gate.value == 0.14 and gate.comparison == "<="
    assert gate.reason.startswith("Calibration error is largest in europe (n=500; calibration error 0.14")


def test_a_group_that_shows_a_calibration_breach_decides_when_the_worst_rests_on_too_little_data():
    values = {
        "dutch": Estimate(0.14, 0.12, 0.16),  # clearly above 0.1
        "europe": Estimate(0.2, 0.02, 0.4),  # larger, on too little data to show it
    }
    gates = FairnessGates(recall_ratio_min=None, calibration_error_max=0.1, proxy_auc_max=None)
    (gate,) = evaluate_gates(make_context("calibration_error", values, Estimate(None)), gates)
    assert gate.verdict == "fail" and gate.value == 0.14
    assert gate.reason.startswith("Calibration error is largest in europe")
    assert "it is above 0.10 with confidence in dutch (n=2,000" in gate.reason


@pytest.mark.parametrize(
    ("metric", "estimate", "threshold", "verdict"),
    [
        ("recall", Estimate(0.7, 0.6, 0.78), 0.8, "fail"),  # the whole interval below: the breach is shown
        ("recall", Estimate(0.7, 0.55, 0.95), 0.8, "inconclusive"),  # below, but the interval reaches back
        ("recall", Estimate(0.85, 0.6, 1.1), 0.8, "pass"),
        ("calibration_error", Estimate(0.12, 0.09, 0.15), 0.1, "inconclusive"),
        ("calibration_error", Estimate(0.12, 0.11, 0.15), 0.1, "fail"),
    ],
)
def test_a_gate_fails_only_when_the_interval_shows_the_breach(metric, estimate, threshold, verdict):
    if metric == "recall":
        values = {"dutch": Estimate(0.5, 0.45, 0.55), "europe": Estimate(0.4, 0.3, 0.5)}
        gates = FairnessGates(recall_ratio_min=threshold, calibration_error_max=None, proxy_auc_max=None)
        context = make_context("recall", values, estimate)
    else:
        values = {"dutch": Estimate(0.03, 0.02, 0.04), "europe": estimate}
        gates = FairnessGates(recall_ratio_min=None, calibration_error_max=threshold, proxy_auc_max=None)
        context = make_context("calibration_error", values, Estimate(0.25))
    (gate,) = evaluate_gates(context, gates)
    assert gate.verdict == verdict


def test_reasons_give_households_and_their_rows_when_households_repeat():
    # The same groups seen over several months: 'other' is 30 rows of only 8 households.
    households = {
        "dutch": {"size": 900, "positives": 120, "negatives": 850, "selected": 200},
        "europe": {"size": 210, "positives": 35, "negatives": 190, "selected": 40},
        "other": {"size": 8, "positives": 2, "negatives": 7, "selected": 2},
    }
    values = {
        "dutch": Estimate(0.5, 0.45, 0.55),
        "europe": Estimate(0.45, 0.35, 0.55),
        "other": Estimate(0.25, 0.0, 0.75),
    }
    context = make_context("recall", values, Estimate(0.9, 0.7, 1.1), households=households)
    (gate,) = evaluate_gates(context, ONLY_RECALL)
    assert gate.reason.startswith(
        "Recall of europe (n=210 households in 500 rows, 35 positives in 80 rows; recall 0.45, 95% CI 0.35–0.55) "
        "is 0.90 × that of dutch (n=900 households in 2,000 rows, 120 positives in 300 rows;"
    )
    assert gate.reason.endswith(
        "Too small to judge (each needs at least 100 households and 20 positives), reported but not gated: "
        "other (n=8 households in 30 rows, 2 positives in 4 rows)."
    )
