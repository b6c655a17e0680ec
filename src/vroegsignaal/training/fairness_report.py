"""The fairness report: small frozen artefacts with a JSON-safe ``to_dict()``.

The shape is the "Fairness report" contract in ``docs/contracts.md``. Values that cannot be computed (a group
without positives has no recall) are ``None`` in the dictionaries, never ``NaN``, so ``json.dumps(...,
allow_nan=False)`` always works.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

#: Every per-group metric the audit reports, in report order.
GROUP_METRICS: tuple[str, ...] = (
    "recall",
    "false_positive_rate",
    "selection_rate",
    "precision",
    "auc",
    "calibration_error",
    "mean_score",
    "observed_rate",
)
MSG_HOUSEHOLDS_EXCEED_ROWS = "cannot outnumber the rows they are counted from"

#: Fairness leads with recall parity (equal opportunity): outreach is assistive, a missed household is the
#: worst harm.
PRIMARY_METRIC = "recall"

GateVerdict = Literal["pass", "fail", "inconclusive", "insufficient_data"]
ProxyVerdict = Literal["pass", "fail", "inconclusive", "not_gated", "insufficient_data"]
AttributeKind = Literal["single", "intersection"]


def plain_float(value: float | None) -> float | None:
    """A plain Python float, or ``None`` for a missing or non-finite value (JSON has no NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _frozen_mapping(values: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its percentile-bootstrap confidence interval (``None`` where undefined)."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None

    def __post_init__(self) -> None:
        for name in ("value", "ci_low", "ci_high"):
            object.__setattr__(self, name, plain_float(getattr(self, name)))

    def to_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}

    def interval_text(self) -> str:
        """``'95% CI 0.41–0.55'``-style text body (without the level), or ``'no interval'``."""
        if self.ci_low is None or self.ci_high is None:
            return "no interval"
        return f"{self.ci_low:.2f}–{self.ci_high:.2f}"


MISSING = Estimate(None)


@dataclass(frozen=True)
class GroupAudit:
    """One group of an audit attribute (or of an intersection): its counts and every metric with an interval.

    ``size`` and ``positives`` count test rows (household × reference date), which the metrics are computed
    over; ``households`` and ``positive_households`` count the distinct households behind them. ``judgeable``
    refers to the primary metric (recall): the group has at least ``min_group_size`` households and
    ``min_group_positives`` positive households. Other metrics have their own rule (see ``docs/fairness.md``).
    """

    group: str
    size: int
    positives: int
    households: int
    positive_households: int
    judgeable: bool
    metrics: Mapping[str, Estimate]

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", _frozen_mapping(self.metrics))
        if self.households > self.size or self.positive_households > min(self.positives, self.households):
            raise ValueError(
                f"group {self.group!r}: households {MSG_HOUSEHOLDS_EXCEED_ROWS} (rows {self.size}, "
                f"households {self.households}, positive rows {self.positives}, positive households "
                f"{self.positive_households})"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "size": int(self.size),
            "positives": int(self.positives),
            "households": int(self.households),
            "positive_households": int(self.positive_households),
            "judgeable": bool(self.judgeable),
            "metrics": {name: estimate.to_dict() for name, estimate in self.metrics.items()},
        }


@dataclass(frozen=True)
class AttributeAudit:
    """The groups of one audit attribute or intersection, with differences and ratios over judgeable groups.

    A difference is the largest minus the smallest group value and a ratio the smallest over the largest; both
    compare the two groups named in the gates, and their intervals come from resampling the test rows.
    """

    name: str
    columns: tuple[str, ...]
    kind: AttributeKind
    groups: tuple[GroupAudit, ...]
    differences: Mapping[str, Estimate]
    ratios: Mapping[str, Estimate]

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "differences", _frozen_mapping(self.differences))
        object.__setattr__(self, "ratios", _frozen_mapping(self.ratios))

    def group(self, name: str) -> GroupAudit:
        """The group called ``name``; raises ``KeyError`` naming the known groups."""
        for group in self.groups:
            if group.group == name:
                return group
        raise KeyError(f"{self.name}: no group '{name}' (groups: {', '.join(g.group for g in self.groups)})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": list(self.columns),
            "kind": self.kind,
            "groups": [group.to_dict() for group in self.groups],
            "differences": {name: estimate.to_dict() for name, estimate in self.differences.items()},
            "ratios": {name: estimate.to_dict() for name, estimate in self.ratios.items()},
        }


@dataclass(frozen=True)
class GateResult:
    """The verdict of one gate on one attribute, with a sentence an ethics committee can read."""

    attribute: str
    metric: str
    threshold: float
    comparison: Literal[">=", "<="]
    value: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: GateVerdict
    reason: str

    def __post_init__(self) -> None:
        for name in ("value", "ci_low", "ci_high"):
            object.__setattr__(self, name, plain_float(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "metric": self.metric,
            "threshold": float(self.threshold),
            "comparison": self.comparison,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "verdict": self.verdict,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class FeatureImportance:
    """How much one model feature helps to predict an audit attribute (share of the total gain, 0–1)."""

    feature: str
    importance: float

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "importance": plain_float(self.importance)}


@dataclass(frozen=True)
class ProxyResult:
    """How well the model's features predict one audit attribute (cross-validated AUC).

    ``auc`` is the macro one-vs-rest AUC (the plain AUC for two groups), with its bootstrap interval
    ``ci_low``–``ci_high`` (``None`` without bootstrap draws); ``strongest_group`` is the group the features single
    out best. Groups too rare to cross-validate are listed in ``groups_left_out`` instead of silently dropped.
    ``verdict`` is judged on the interval like every gate (``'fail'`` only when it lies wholly above the threshold);
    it is ``'not_gated'`` when the gate is off and ``'insufficient_data'`` when the AUC could not be computed.
    """

    attribute: str
    auc: float | None
    threshold: float | None
    verdict: ProxyVerdict
    top_features: tuple[FeatureImportance, ...]
    strongest_group: str | None = None
    strongest_group_auc: float | None = None
    groups_left_out: tuple[str, ...] = ()
    ci_low: float | None = None
    ci_high: float | None = None

    def __post_init__(self) -> None:
        for name in ("auc", "strongest_group_auc", "ci_low", "ci_high"):
            object.__setattr__(self, name, plain_float(getattr(self, name)))
        object.__setattr__(self, "top_features", tuple(self.top_features))
        object.__setattr__(self, "groups_left_out", tuple(self.groups_left_out))

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "auc": self.auc,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "threshold": plain_float(self.threshold),
            "verdict": self.verdict,
            "top_features": [feature.to_dict() for feature in self.top_features],
            "strongest_group": self.strongest_group,
            "strongest_group_auc": self.strongest_group_auc,
            "groups_left_out": list(self.groups_left_out),
        }

    @property
    def estimate(self) -> Estimate:
        """The AUC with its interval."""
        return Estimate(self.auc, self.ci_low, self.ci_high)


@dataclass(frozen=True)
class FairnessReport:
    """The whole fairness audit of one model on one test set.

    ``passed`` is true only when no gate (including the proxy gates) fails; ``insufficient_data`` does not
    fail a gate but its reason names the groups that could not be judged. ``mitigation`` is the section built
    by :func:`~vroegsignaal.training.fairness.compare_mitigation`; attach it with ``dataclasses.replace``.
    """

    capacity_k: int
    confidence: float
    bootstrap_samples: int
    attributes: tuple[AttributeAudit, ...]
    gates: tuple[GateResult, ...]
    proxy: tuple[ProxyResult, ...] = ()
    mitigation: Mapping[str, Any] | None = None
    primary_metric: str = PRIMARY_METRIC
    #: Whether the groups' calibration errors and intervals had their bias taken off (enough bootstrap draws:
    #: :func:`~vroegsignaal.training.fairness_metrics.without_calibration_bias`); cards made before this
    #: correction hold plain values.
    calibration_bias_corrected: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", tuple(self.attributes))
        object.__setattr__(self, "gates", tuple(self.gates))
        object.__setattr__(self, "proxy", tuple(self.proxy))
        if self.mitigation is not None:
            object.__setattr__(self, "mitigation", _frozen_mapping(self.mitigation))

    @property
    def passed(self) -> bool:
        return all(gate.verdict != "fail" for gate in self.gates)

    def attribute(self, name: str) -> AttributeAudit:
        """The audit of attribute (or intersection) ``name``; raises ``KeyError`` naming the known ones."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        known = ", ".join(a.name for a in self.attributes)
        raise KeyError(f"no audited attribute '{name}' (attributes: {known})")

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-safe Python objects (the ``fairness.json`` of a model bundle)."""
        return {
            "primary_metric": self.primary_metric,
            "capacity_k": int(self.capacity_k),
            "confidence": float(self.confidence),
            "bootstrap_samples": int(self.bootstrap_samples),
            "calibration_bias_corrected": bool(self.calibration_bias_corrected),
            "attributes": [attribute.to_dict() for attribute in self.attributes],
            "gates": [gate.to_dict() for gate in self.gates],
            "proxy": [proxy.to_dict() for proxy in self.proxy],
            "passed": self.passed,
            "mitigation": _plain_section(self.mitigation) if self.mitigation is not None else None,
        }


def _plain_section(section: Mapping[str, Any]) -> dict[str, Any]:
    """Copy a (possibly read-only) mitigation section into plain dicts and lists for JSON."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if isinstance(value, float):
            return plain_float(value)
        return value

    return plain(section)
