"""Fairness gates: verdicts and the plain-English sentence behind each one.

A ratio gate compares the two judgeable groups with the lowest and the highest value of a metric (ratio =
lowest / highest). For the false-positive rate a lower value is better, and the same ratio then reads "the
group with the most needless contact gets at most 1/threshold times the needless contact of the group with the
least". The calibration gate looks at the worst judgeable group. When that pair (or group) does not show a breach
but another one does — a small group with the lowest value and a wide interval beside a large group that is
clearly below the threshold — the gate judges the one that shows it: a small group must not hide a breach the data
show for a large one.

A gate **fails** only when the data show the breach with the configured confidence: the whole bootstrap interval
lies on the wrong side of the threshold. When the point estimate is on the wrong side but the interval reaches back
over the threshold, the verdict is **inconclusive**: not a pass — the committee weighs it, and the card lists it —
but no proof of unfairness either. The minimum over many small groups is pulled down by chance alone, so a verdict on
the point estimate would fail honest models on small data. A point estimate on the right side passes; its reason says
so when the interval crosses the threshold. Groups too small to judge are named in every reason, so they never
merely look fair. The proxy gate (how well the features predict an attribute) is judged the same way, on the
interval of its cross-validated AUC (:mod:`~vroegsignaal.training.fairness_proxy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vroegsignaal.schemas.card import PROXY_GATE
from vroegsignaal.schemas.dataset_config import FairnessGates
from vroegsignaal.training.fairness_metrics import DENOMINATORS
from vroegsignaal.training.fairness_report import Estimate, GateResult, GateVerdict, GroupAudit, ProxyResult

#: Gate field of :class:`FairnessGates` → (metric it compares, name in the report).
RATIO_GATES: Mapping[str, tuple[str, str]] = {
    "recall_ratio_min": ("recall", "recall_ratio"),
    "false_positive_rate_ratio_min": ("false_positive_rate", "false_positive_rate_ratio"),
    "selection_rate_ratio_min": ("selection_rate", "selection_rate_ratio"),
    "precision_ratio_min": ("precision", "precision_ratio"),
}
CALIBRATION_GATE = ("calibration_error", "calibration_error_max")

_LABELS = {
    "recall": "Recall",
    "false_positive_rate": "False-positive rate",
    "selection_rate": "Selection rate at capacity",
    "precision": "Precision at capacity",
    "calibration_error": "Calibration error",
    "auc": "AUC",
}


@dataclass(frozen=True)
class PairRatio:
    """The ratio of two judged groups' values, the lower one's over the higher one's, with its interval."""

    low: str
    high: str
    ratio: Estimate


@dataclass(frozen=True)
class MetricComparison:
    """How one metric compares across the groups of one attribute.

    ``judged`` are the groups with enough data for this metric and a defined value; ``too_small`` the others.
    ``low``/``high`` name the judged groups with the smallest and largest value; ``difference`` and ``ratio``
    compare exactly these two (``None`` values when fewer than two groups are judged). ``pairs`` holds the ratio
    of every pair of judged groups (for the gates: see the module docstring).
    """

    metric: str
    judged: tuple[str, ...]
    too_small: tuple[str, ...]
    low: str | None
    high: str | None
    difference: Estimate
    ratio: Estimate
    pairs: tuple[PairRatio, ...] = ()


@dataclass(frozen=True)
class GateContext:
    """What a gate needs to know about one attribute to write its reason.

    ``counts`` are a group's rows, ``household_counts`` its distinct households (the unit the judging rule
    counts); both keyed like :data:`~vroegsignaal.training.fairness_metrics.COUNTS`.
    """

    attribute: str
    groups: Mapping[str, GroupAudit]
    counts: Mapping[str, Mapping[str, int]]
    household_counts: Mapping[str, Mapping[str, int]]
    comparisons: Mapping[str, MetricComparison]
    min_group_size: int
    min_group_positives: int
    confidence: float


def evaluate_gates(context: GateContext, gates: FairnessGates) -> list[GateResult]:
    """Every configured (non-``None``) group gate of ``gates`` applied to one attribute, in a fixed order."""
    results = []
    for field_name, (metric, gate_name) in RATIO_GATES.items():
        threshold = getattr(gates, field_name)
        if threshold is not None:
            results.append(_ratio_gate(context, metric=metric, gate_name=gate_name, threshold=threshold))
    if gates.calibration_error_max is not None:
        results.append(_calibration_gate(context, threshold=gates.calibration_error_max))
    return results


def proxy_gate(result: ProxyResult, *, confidence: float) -> GateResult | None:
    """The proxy check of one attribute as a gate (``None`` when the proxy gate is off), with the AUC's interval
    at ``confidence``; the verdict is the check's own (:func:`verdict_of`, on the interval)."""
    if result.threshold is None:
        return None
    if result.auc is None:
        reason = (
            f"The proxy check for {result.attribute} could not run: fewer than two groups have enough "
            f"households to cross-validate{_left_out_text(result)}."
        )
    else:
        features = ", ".join(f.feature for f in result.top_features) or "none"
        strongest = (
            f"; the features single out {result.strongest_group} best (one-vs-rest AUC "
            f"{result.strongest_group_auc:.2f})"
            if result.strongest_group is not None and result.strongest_group_auc is not None
            else ""
        )
        reason = (
            f"The model's features predict {result.attribute} with a cross-validated AUC of {result.auc:.2f} "
            f"({confidence:.0%} CI {result.estimate.interval_text()}){strongest}; most telling features: "
            f"{features}. The gate allows at most {result.threshold:.2f}, so it {_verb(result.verdict)}"
            f"{_left_out_text(result)}.{_uncertainty_text(result.estimate, result.threshold)}"
        )
    return GateResult(
        attribute=result.attribute,
        metric=PROXY_GATE,
        threshold=result.threshold,
        comparison="<=",
        value=result.auc,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        verdict="insufficient_data" if result.auc is None else result.verdict,
        reason=reason,
    )


def _ratio_gate(context: GateContext, *, metric: str, gate_name: str, threshold: float) -> GateResult:
    comparison = context.comparisons[metric]
    if len(comparison.judged) < 2 or comparison.low is None or comparison.high is None or comparison.ratio.value is None:
        return _insufficient(context, metric=metric, gate_name=gate_name, threshold=threshold)
    widest = PairRatio(comparison.low, comparison.high, comparison.ratio)
    shown = [pair for pair in comparison.pairs if verdict_of(pair.ratio, threshold, higher_is_better=True) == "fail"]
    judged = widest
    if shown and verdict_of(widest.ratio, threshold, higher_is_better=True) != "fail":
        judged = min(shown, key=lambda pair: pair.ratio.ci_high)  # type: ignore[arg-type, return-value]
    ratio = judged.ratio
    verdict = verdict_of(ratio, threshold, higher_is_better=True)
    reason = (
        f"{_ratio_finding(context, metric, judged)}. The gate requires a ratio (lowest / highest) of at least "
        f"{threshold:.2f}, so it {_verb(verdict)}. {_level(context)} CI of the ratio: {ratio.interval_text()}."
        f"{_uncertainty_text(ratio, threshold)}{_widest_text(widest, judged)}{_too_small_text(context, metric)}"
    )
    return GateResult(
        attribute=context.attribute,
        metric=gate_name,
        threshold=threshold,
        comparison=">=",
        value=ratio.value,
        ci_low=ratio.ci_low,
        ci_high=ratio.ci_high,
        verdict=verdict,
        reason=reason,
    )


def _calibration_gate(context: GateContext, *, threshold: float) -> GateResult:
    metric, gate_name = CALIBRATION_GATE
    comparison = context.comparisons[metric]
    if comparison.high is None:
        return _insufficient(context, metric=metric, gate_name=gate_name, threshold=threshold)
    group = comparison.high
    shown = [
        g for g in comparison.judged
        if verdict_of(context.groups[g].metrics[metric], threshold, higher_is_better=False) == "fail"
    ]
    if shown and group not in shown:  # the largest error rests on too little data; another group shows a breach
        group = max(shown, key=lambda g: context.groups[g].metrics[metric].ci_low)  # type: ignore[arg-type, return-value]
    worst = context.groups[group].metrics[metric]
    verdict = verdict_of(worst, threshold, higher_is_better=False)
    largest = (
        f"Calibration error is largest in {_describe(context, comparison.high, metric)}, on too little data to "
        f"show a breach; it is above {threshold:.2f} with confidence in {_describe(context, group, metric)}"
        if group != comparison.high
        else f"Calibration error is largest in {_describe(context, group, metric)}"
    )
    reason = (
        f"{largest}. The gate allows at most {threshold:.2f} in any judgeable group, so it {_verb(verdict)}."
        f"{_uncertainty_text(worst, threshold)}{_too_small_text(context, metric)}"
    )
    return GateResult(
        attribute=context.attribute,
        metric=gate_name,
        threshold=threshold,
        comparison="<=",
        value=worst.value,
        ci_low=worst.ci_low,
        ci_high=worst.ci_high,
        verdict=verdict,
        reason=reason,
    )


def _ratio_finding(context: GateContext, metric: str, pair: PairRatio) -> str:
    """What the ratio of ``pair`` says, in words (needless contact for the false-positive rate)."""
    low, high, ratio = _describe(context, pair.low, metric), _describe(context, pair.high, metric), pair.ratio.value
    if metric != "false_positive_rate":
        return f"{_LABELS[metric]} of {low} is {ratio:.2f} × that of {high}"
    if ratio:
        times = 1 / ratio
        return (
            f"False-positive rate of {high} is {times:.2f} × that of {low}: households in {pair.high} without the "
            f"outcome get needless contact {times:.2f} times as often"
        )
    return (
        f"False-positive rate of {high} is above zero while that of {low} is zero: only households in {pair.high} "
        "without the outcome get needless contact"
    )


def _widest_text(widest: PairRatio, judged: PairRatio) -> str:
    """When the gate judged another pair than the lowest and highest group: why."""
    if judged == widest:
        return ""
    return (
        f" The lowest and highest groups, {widest.low} and {widest.high}, differ more (ratio "
        f"{widest.ratio.value:.2f}, CI {widest.ratio.interval_text()}), on too little data to show it; the pair "
        "above shows a breach with confidence, and a small group must not hide it."
    )


def _insufficient(context: GateContext, *, metric: str, gate_name: str, threshold: float) -> GateResult:
    comparison_result = context.comparisons[metric]
    # The calibration gate judges each group on its own; the ratio gates compare two groups.
    per_group = metric == CALIBRATION_GATE[0]
    needed = "a group" if per_group else "two groups"
    judged = (
        f" Only {_describe(context, comparison_result.judged[0], metric)} can be judged."
        if comparison_result.judged
        else ""
    )
    reason = (
        f"{_LABELS[metric]} cannot be judged for {context.attribute}: the gate needs {needed} with "
        f"{_rule_text(context, metric)}.{judged}{_too_small_text(context, metric)} "
        "The gate neither passes nor fails; collect more data or merge groups before relying on the model "
        "for them."
    )
    return GateResult(
        attribute=context.attribute,
        metric=gate_name,
        threshold=threshold,
        comparison="<=" if per_group else ">=",
        value=None,
        ci_low=None,
        ci_high=None,
        verdict="insufficient_data",
        reason=reason,
    )


def _describe(context: GateContext, group: str, metric: str) -> str:
    """``'outside_europe (n=812, 61 positives; recall 0.48, 95% CI 0.41–0.55)'``; see :func:`_counts_text`."""
    estimate = context.groups[group].metrics[metric]
    value = "undefined" if estimate.value is None else f"{estimate.value:.2f}"
    return (
        f"{group} ({_counts_text(context, group, metric)}; {_LABELS[metric].lower()} {value}, "
        f"{_level(context)} CI {estimate.interval_text()})"
    )


def _counts_text(context: GateContext, group: str, metric: str) -> str:
    """The group's size and the counts the metric is estimated from, in households.

    With one row per household: ``'n=812, 61 positives'``. When households have rows in several periods
    the rows follow each count: ``'n=30 households in 150 rows, 12 positives in 41 rows'``, so nobody reads
    rows as people.
    """
    households, rows = context.household_counts[group], context.counts[group]
    names = ("size", *DENOMINATORS.get(metric, ()))
    if context.household_counts == context.counts:
        return ", ".join(
            f"n={rows[name]:,}" if name == "size" else f"{rows[name]:,} {name}" for name in names
        )
    return ", ".join(
        f"n={households[name]:,} households in {rows[name]:,} rows"
        if name == "size"
        else f"{households[name]:,} {name} in {rows[name]:,} rows"
        for name in names
    )


def _rule_text(context: GateContext, metric: str) -> str:
    counted = (f"{context.min_group_positives:,} {c}" for c in DENOMINATORS.get(metric, ()))
    needs = [f"{context.min_group_size:,} households", *counted]
    listed = needs[0] if len(needs) == 1 else f"{', '.join(needs[:-1])} and {needs[-1]}"
    return f"at least {listed}"


def _too_small_text(context: GateContext, metric: str) -> str:
    too_small = context.comparisons[metric].too_small
    if not too_small:
        return ""
    listed = "; ".join(f"{group} ({_counts_text(context, group, metric)})" for group in too_small)
    rule = _rule_text(context, metric)
    return f" Too small to judge (each needs {rule}), reported but not gated: {listed}."


def verdict_of(estimate: Estimate, threshold: float, *, higher_is_better: bool) -> GateVerdict:
    """``pass`` on the right side; ``fail`` when the whole interval is on the wrong side; else ``inconclusive``."""
    value = estimate.value
    if value is None:
        return "fail"
    if (value >= threshold) if higher_is_better else (value <= threshold):
        return "pass"
    # The interval's far end (towards passing) decides whether the breach is shown with confidence.
    far_end = estimate.ci_high if higher_is_better else estimate.ci_low
    if far_end is None:
        return "fail"
    reaches_back = far_end >= threshold if higher_is_better else far_end <= threshold
    return "inconclusive" if reaches_back else "fail"


def _uncertainty_text(estimate: Estimate, threshold: float) -> str:
    low, high = estimate.ci_low, estimate.ci_high
    if low is None or high is None or not low < threshold < high:
        return ""
    return (
        " The interval crosses the threshold: on this data the breach is neither shown nor ruled out, so the "
        "verdict is uncertain; weigh it, or collect more data."
    )


def _left_out_text(result: ProxyResult) -> str:
    if not result.groups_left_out:
        return ""
    return f" (too rare to check: {', '.join(result.groups_left_out)})"


def _level(context: GateContext) -> str:
    return f"{context.confidence:.0%}"


def _verb(verdict: str) -> str:
    return {"pass": "passes", "inconclusive": "is inconclusive"}.get(verdict, "fails")
