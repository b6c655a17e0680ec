"""The fairness audit and mitigation — the only place Vroegsignaal uses fairlearn.

``audit_fairness`` measures, per audit attribute and per intersection of attributes, how the model treats each
group at the team's capacity: recall (leading: a missed household is the worst harm), false-positive rate
(needless contact), selection rate, precision, AUC and calibration, each with a bootstrap confidence interval
and the group's size. It compares groups only when they are large enough to judge, applies the gates fixed in
the config beforehand, and runs the proxy check. ``fit_exponentiated_gradient`` and ``compare_mitigation``
train under a fairness constraint and report the effect on every group. ``docs/fairness.md`` explains all of
it for an ethics committee.

The work is split over sibling modules (``fairness_metrics``, ``fairness_gates``, ``fairness_proxy``,
``fairness_mitigation``, ``fairness_report``, ``fairness_inputs``); import the public names from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from vroegsignaal.schemas.dataset_config import FairnessConfig
from vroegsignaal.training.fairness_gates import (
    CALIBRATION_GATE,
    RATIO_GATES,
    GateContext,
    MetricComparison,
    PairRatio,
    evaluate_gates,
    proxy_gate,
)
from vroegsignaal.training.fairness_inputs import (
    INTERSECTION_SEPARATOR,
    MISSING_GROUP,
    MSG_EMPTY,
    MSG_FEATURE_DTYPE,
    MSG_INDEX_MISMATCH,
    MSG_INTERSECTION_TOO_SHORT,
    MSG_LENGTH_MISMATCH,
    MSG_NO_AUDIT_COLUMNS,
    MSG_NOT_BINARY,
    MSG_SCORES_OUT_OF_RANGE,
    MSG_SELECTED_NOT_BOOLEAN,
    MSG_UNKNOWN_ATTRIBUTE,
    binary_labels,
    check_audit_columns,
    check_intersections,
    check_same_index,
    check_same_length,
    group_labels,
    group_order,
    probabilities,
    selection_flags,
)
from vroegsignaal.training.fairness_metrics import (
    CALIBRATION_BINS,
    COUNTS,
    DENOMINATORS,
    MIN_DRAWS_FOR_BIAS,
    bootstrap_metrics,
    calibration_bins,
    household_tallies,
    pair_ratio,
    percentile_interval,
    point_metrics,
    without_calibration_bias,
)
from vroegsignaal.training.fairness_mitigation import (
    CONSTRAINTS,
    MSG_CATEGORICAL_MISMATCH,
    MSG_NO_EARLY_STOPPING,
    MSG_ONLY_CONSTANT_PREDICTORS,
    MSG_REPORTS_DIFFER,
    MSG_SINGLE_GROUP,
    MSG_UNKNOWN_CONSTRAINT,
    MSG_UNKNOWN_METHOD,
    compare_mitigation,
    fit_exponentiated_gradient,
    mixture_log_odds,
)
from vroegsignaal.training.fairness_proxy import PROXY_MAX_ROWS, check_proxies
from vroegsignaal.training.fairness_report import (
    GROUP_METRICS,
    PRIMARY_METRIC,
    AttributeAudit,
    Estimate,
    FairnessReport,
    FeatureImportance,
    GateResult,
    GroupAudit,
    ProxyResult,
)

__all__ = [
    "CONSTRAINTS",
    "GROUP_METRICS",
    "INTERSECTION_SEPARATOR",
    "MISSING_GROUP",
    "MSG_CAPACITY_NEGATIVE",
    "MSG_CATEGORICAL_MISMATCH",
    "MSG_EMPTY",
    "MSG_FEATURE_DTYPE",
    "MSG_INDEX_MISMATCH",
    "MSG_INTERSECTION_TOO_SHORT",
    "MSG_LENGTH_MISMATCH",
    "MSG_NOT_BINARY",
    "MSG_NO_AUDIT_COLUMNS",
    "MSG_NO_EARLY_STOPPING",
    "MSG_ONLY_CONSTANT_PREDICTORS",
    "MSG_REPORTS_DIFFER",
    "MSG_SCORES_OUT_OF_RANGE",
    "MSG_SELECTED_NOT_BOOLEAN",
    "MSG_SINGLE_GROUP",
    "MSG_UNKNOWN_ATTRIBUTE",
    "MSG_UNKNOWN_CONSTRAINT",
    "MSG_UNKNOWN_METHOD",
    "PRIMARY_METRIC",
    "AttributeAudit",
    "Estimate",
    "FairnessReport",
    "FeatureImportance",
    "GateResult",
    "GroupAudit",
    "ProxyResult",
    "audit_fairness",
    "check_proxies",
    "compare_mitigation",
    "fit_exponentiated_gradient",
    "mixture_log_odds",
]

MSG_CAPACITY_NEGATIVE = "must be a non-negative number of households"
#: Metrics that are compared across groups (differences and ratios); mean score and observed rate only
#: describe.
_COMPARED = ("recall", "false_positive_rate", "selection_rate", "precision", "auc", "calibration_error")
#: Compared by their difference only. A calibration error corrected for its bias can be 0 (and so can many of its
#: draws), which makes a ratio of two groups' errors read as the largest disparity, or undefined, where there is
#: none to speak of.
_NO_RATIO = ("calibration_error",)


def audit_fairness(
    *,
    y_true: np.ndarray,
    scores: np.ndarray,
    selected: np.ndarray,
    audit: pd.DataFrame,
    features: pd.DataFrame,
    config: FairnessConfig,
    intersections: Sequence[Sequence[str]],
    capacity_k: int,
    seed: int,
    households: np.ndarray | None = None,
    n_calibration_bins: int = CALIBRATION_BINS,
    proxy_max_rows: int = PROXY_MAX_ROWS,
) -> FairnessReport:
    """Audit a model's test-set scores per group, apply the fairness gates and run the proxy check.

    Parameters
    ----------
    y_true
        Observed labels, 0/1 (or booleans).
    scores
        Calibrated probabilities in [0, 1].
    selected
        True for the households inside the team's capacity (top-k per period, computed by the caller).
    audit
        One column per audit attribute, already banded/mapped to strings, indexed like ``features``.
    features
        The model's feature matrix (categoricals as pandas ``category``), for the proxy check.
    config
        Metrics, gates, judging thresholds (``min_group_size``, ``min_group_positives``), bootstrap size and
        confidence level — fixed before the audit runs. Intersections are gated only with
        ``gate_intersections``.
    intersections
        Combinations of audit columns to audit together (each of at least two attributes).
    capacity_k
        The team's capacity per period, reported as context.
    seed
        Seeds the bootstrap and the proxy check; equal inputs give an equal report.
    households
        Optional household (the dataset's id) per row, for data with a row per household per period. The
        bootstrap then draws households, not rows, since one household's rows are not independent; and a
        group's size, which decides whether it can be judged (``min_group_size``, ``min_group_positives``),
        counts distinct households, so 30 households seen in five months do not pass for 150. Without it every
        row is its own household.
    n_calibration_bins, proxy_max_rows
        Score bins for the calibration error and the proxy check's sample cap per attribute.

    Returns
    -------
    FairnessReport
        Attributes first (single, then intersections), each with every group, differences and ratios; the
        gates (per single attribute: group gates, then the proxy gate; then intersection gates if enabled);
        the proxy results. ``report.passed`` is false as soon as one gate fails.

    Raises
    ------
    ValueError
        On inputs of different lengths, differently indexed ``audit`` and ``features``, non-binary ``y_true``,
        scores outside [0, 1], non-boolean ``selected``, no audit columns, an unknown or too short
        intersection or a negative ``capacity_k``; the message names the argument, the rule and the offending
        values or rows.
    """
    check_same_length(y_true=y_true, scores=scores, selected=selected, audit=audit, features=features)
    if households is not None:
        check_same_length(y_true=y_true, households=households)
    check_same_index(audit=audit, features=features)
    check_audit_columns(audit)
    y = binary_labels(y_true, name="y_true")
    s = probabilities(scores, name="scores")
    chosen = selection_flags(selected, name="selected")
    combinations = check_intersections(intersections, [str(c) for c in audit.columns])
    if capacity_k < 0:
        raise ValueError(f"capacity_k {MSG_CAPACITY_NEGATIVE}; got {capacity_k}")

    # Codes 0..n-1, one per household; without ids every row is a household of its own (the bootstrap's draws
    # are then the same as drawing rows).
    household_codes = (
        np.arange(len(y)) if households is None else pd.factorize(np.asarray(households))[0]
    )
    metrics = _metrics_to_compute(config)
    specs = [(str(column),) for column in audit.columns] + combinations
    label_sets = [group_labels(audit, list(columns)) for columns in specs]
    bins = calibration_bins(s, n_bins=n_calibration_bins)
    draws = (
        bootstrap_metrics(
            y_true=y,
            scores=s,
            selected=chosen,
            bins=bins,
            label_sets=label_sets,
            metrics=metrics,
            n_draws=config.bootstrap_samples,
            seed=seed,
            clusters=household_codes,
        )
        if config.bootstrap_samples > 0
        else [{} for _ in specs]
    )

    attributes: list[AttributeAudit] = []
    group_gates: dict[str, list[GateResult]] = {}
    for columns, labels, attribute_draws in zip(specs, label_sets, draws, strict=True):
        point = point_metrics(y_true=y, scores=s, selected=chosen, bins=bins, labels=labels, metrics=metrics)
        point, attribute_draws = without_calibration_bias(point, attribute_draws)
        distinct_households = household_tallies(
            households=household_codes, y_true=y, selected=chosen, labels=labels
        )
        attribute, context = _audit_attribute(
            columns,
            point=point,
            distinct_households=distinct_households,
            order=group_order(audit, columns, labels),
            draws=attribute_draws,
            metrics=metrics,
            config=config,
        )
        attributes.append(attribute)
        if len(columns) == 1 or config.gate_intersections:
            group_gates[attribute.name] = evaluate_gates(context, config.gates)

    proxy = check_proxies(
        features=features,
        audit=audit,
        gates=config.gates,
        seed=seed,
        households=households,
        bootstrap_samples=config.bootstrap_samples,
        confidence=config.confidence,
        max_rows=proxy_max_rows,
    )
    proxy_gates = {result.attribute: proxy_gate(result, confidence=config.confidence) for result in proxy}
    gates = []
    for attribute in attributes:
        gates += group_gates.get(attribute.name, [])
        proxy_result = proxy_gates.get(attribute.name)
        if attribute.kind == "single" and proxy_result is not None:
            gates.append(proxy_result)
    return FairnessReport(
        capacity_k=int(capacity_k),
        confidence=config.confidence,
        bootstrap_samples=config.bootstrap_samples,
        attributes=tuple(attributes),
        gates=tuple(gates),
        proxy=tuple(proxy),
        calibration_bias_corrected=config.bootstrap_samples >= MIN_DRAWS_FOR_BIAS,
    )


def _metrics_to_compute(config: FairnessConfig) -> list[str]:
    """The configured metrics, any metric a gate needs, and the descriptive mean score and observed rate."""
    gated = [metric for field, (metric, _) in RATIO_GATES.items() if getattr(config.gates, field) is not None]
    if config.gates.calibration_error_max is not None:
        gated.append(CALIBRATION_GATE[0])
    wanted = {*config.metrics, *gated, "mean_score", "observed_rate"}
    return [metric for metric in GROUP_METRICS if metric in wanted]


def judgeable_for(
    metric: str, counts: Mapping[str, int], *, min_group_size: int, min_group_positives: int
) -> bool:
    """Whether a group has enough data to be judged on ``metric``.

    ``counts`` are distinct households (see :func:`household_tallies`): every metric needs ``min_group_size``
    households; a metric estimated from a subset needs ``min_group_positives`` households in that subset too:
    recall the positives, the false-positive rate the negatives, precision the selected households, AUC both
    positives and negatives.
    """
    return counts["size"] >= min_group_size and all(
        counts[count] >= min_group_positives for count in DENOMINATORS.get(metric, ())
    )


def _audit_attribute(
    columns: tuple[str, ...],
    *,
    point: pd.DataFrame,
    distinct_households: pd.DataFrame,
    order: list[str],
    draws: Mapping[str, Mapping[str, np.ndarray]],
    metrics: Sequence[str],
    config: FairnessConfig,
) -> tuple[AttributeAudit, GateContext]:
    order = order + [str(g) for g in point.index if str(g) not in order]
    counts = {group: {name: int(round(point.at[group, name])) for name in COUNTS} for group in order}
    household_counts = {
        group: {name: int(distinct_households.at[group, name]) for name in COUNTS} for group in order
    }

    def judge(metric: str, group: str) -> bool:
        return judgeable_for(
            metric,
            household_counts[group],
            min_group_size=config.min_group_size,
            min_group_positives=config.min_group_positives,
        )

    groups = {
        group: GroupAudit(
            group=group,
            size=counts[group]["size"],
            positives=counts[group]["positives"],
            households=household_counts[group]["size"],
            positive_households=household_counts[group]["positives"],
            judgeable=judge(PRIMARY_METRIC, group),
            metrics={
                metric: Estimate(
                    point.at[group, metric],
                    *percentile_interval(draws.get(group, {}).get(metric), confidence=config.confidence),
                )
                for metric in metrics
            },
        )
        for group in order
    }
    comparisons = {
        metric: _compare(
            metric,
            judged=[g for g in order if judge(metric, g) and groups[g].metrics[metric].value is not None],
            order=order,
            groups=groups,
            draws=draws,
            confidence=config.confidence,
        )
        for metric in metrics
        if metric in _COMPARED
    }
    name = INTERSECTION_SEPARATOR.join(columns)
    attribute = AttributeAudit(
        name=name,
        columns=columns,
        kind="single" if len(columns) == 1 else "intersection",
        groups=tuple(groups.values()),
        differences={metric: comparison.difference for metric, comparison in comparisons.items()},
        ratios={metric: comparison.ratio for metric, comparison in comparisons.items()},
    )
    context = GateContext(
        attribute=name,
        groups=groups,
        counts=counts,
        household_counts=household_counts,
        comparisons=comparisons,
        min_group_size=config.min_group_size,
        min_group_positives=config.min_group_positives,
        confidence=config.confidence,
    )
    return attribute, context


def _compare(
    metric: str,
    *,
    judged: list[str],
    order: list[str],
    groups: Mapping[str, GroupAudit],
    draws: Mapping[str, Mapping[str, np.ndarray]],
    confidence: float,
) -> MetricComparison:
    """Compare the judged groups with the lowest and highest value; intervals resample that same pair."""
    too_small = tuple(g for g in order if g not in judged)
    if not judged:
        return MetricComparison(metric, (), too_small, None, None, Estimate(None), Estimate(None))
    ranked = sorted(judged, key=lambda g: float(groups[g].metrics[metric].value))  # type: ignore[arg-type]
    low, high = ranked[0], ranked[-1]
    if len(judged) < 2:
        return MetricComparison(metric, tuple(judged), too_small, low, high, Estimate(None), Estimate(None))
    value_low = np.array([groups[low].metrics[metric].value], dtype=np.float64)
    value_high = np.array([groups[high].metrics[metric].value], dtype=np.float64)
    draws_low, draws_high = draws.get(low, {}).get(metric), draws.get(high, {}).get(metric)
    difference_ci = (
        percentile_interval(draws_high - draws_low, confidence=confidence)
        if draws_low is not None and draws_high is not None
        else (None, None)
    )
    difference = Estimate(float((value_high - value_low)[0]), *difference_ci)
    if metric in _NO_RATIO:
        return MetricComparison(metric, tuple(judged), too_small, low, high, difference, Estimate(None))
    # Every pair, lower value first: the first holds the lowest group, the last of those with it the highest.
    pairs = tuple(
        _pair(lower, higher, metric, groups=groups, draws=draws, confidence=confidence)
        for index, lower in enumerate(ranked)
        for higher in ranked[index + 1 :]
    )
    widest = pairs[len(ranked) - 2]  # (ranked[0], ranked[-1])
    return MetricComparison(metric, tuple(judged), too_small, low, high, difference, widest.ratio, pairs)


def _pair(
    lower: str,
    higher: str,
    metric: str,
    *,
    groups: Mapping[str, GroupAudit],
    draws: Mapping[str, Mapping[str, np.ndarray]],
    confidence: float,
) -> PairRatio:
    """The ratio of two judged groups' values (``lower`` has the smaller one), its interval from the same draws."""
    values = [np.array([groups[g].metrics[metric].value], dtype=np.float64) for g in (lower, higher)]
    draws_lower, draws_higher = draws.get(lower, {}).get(metric), draws.get(higher, {}).get(metric)
    interval = (
        percentile_interval(pair_ratio(draws_lower, draws_higher), confidence=confidence)
        if draws_lower is not None and draws_higher is not None
        else (None, None)
    )
    return PairRatio(lower, higher, Estimate(float(pair_ratio(*values)[0]), *interval))
