"""The model pages' pieces: a version's card read as data, and two versions side by side. Pure functions.

Everything comes from the model card that training wrote (``schemas.card.ModelCard``); the pages add no numbers of
their own. Fairness is shown for the card's primary metric (recall: equal opportunity) per group, always with its
interval and the group's size, so a small group never merely *looks* fair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from vroegsignaal.schemas.card import AttributeResult, GateResult, ModelCard, ModelMetrics
from vroegsignaal.schemas.enums import ModelStatus, Role

Direction = Literal["higher", "lower", "none"]
Display = Literal["number", "percent", "count"]


def read_card(card_json: Mapping[str, Any] | None) -> ModelCard | None:
    """The stored card as a :class:`ModelCard`; ``None`` when there is none or it does not fit the schema (the page
    then says the card cannot be read, and offers no approval)."""
    if card_json is None:
        return None
    try:
        return ModelCard.model_validate(card_json)
    except ValidationError:
        return None


# --------------------------------------------------------------------------------------------------- what to offer


def can_review(role: Role, status: ModelStatus) -> bool:
    """Whether the approve/reject form is offered (the service checks again when it is sent): for every version not
    rejected yet, the one in use included, whose review goes on after release."""
    return role is Role.ETHICS_REVIEWER and status is not ModelStatus.REJECTED


def can_approve(status: ModelStatus, *, gates_passed: bool) -> bool:
    """Whether "approve" is among the choices: a candidate whose card does not say it failed its gates."""
    return status is ModelStatus.CANDIDATE and gates_passed


def can_promote(role: Role, status: ModelStatus, *, gates_passed: bool) -> bool:
    """Whether "make this the model in use" is offered to an admin."""
    return role is Role.ADMIN and status in (ModelStatus.APPROVED, ModelStatus.RETIRED) and gates_passed


# ---------------------------------------------------------------------------------------------- card as summaries


@dataclass(frozen=True)
class GroupCell:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    #: The group's households, or its rows in cards made before households were counted (``counts`` says which).
    size: int
    judgeable: bool
    counts: Literal["households", "rows"] = "households"


@dataclass(frozen=True)
class GroupLine:
    attribute: str
    group: str
    cells: tuple[GroupCell | None, ...]


def single_attributes(card: ModelCard) -> list[AttributeResult]:
    """The audit attributes on their own (intersections are in the full card)."""
    return [attribute for attribute in card.fairness.attributes if attribute.kind == "single"]


def group_cell(attribute: AttributeResult, group: str, metric: str) -> GroupCell | None:
    for result in attribute.groups:
        if result.group == group:
            estimate = result.metrics.get(metric)
            return GroupCell(
                estimate.value if estimate else None,
                estimate.ci_low if estimate else None,
                estimate.ci_high if estimate else None,
                result.size if result.households is None else result.households,
                result.judgeable,
                "rows" if result.households is None else "households",
            )
    return None


def fairness_lines(cards: Sequence[ModelCard | None], *, metric: str) -> list[GroupLine]:
    """One line per (attribute, group) found in any of ``cards``, with each card's value of ``metric``."""
    keys: list[tuple[str, str]] = []
    for card in cards:
        for attribute in single_attributes(card) if card else []:
            keys.extend((attribute.name, g.group) for g in attribute.groups if (attribute.name, g.group) not in keys)
    lines = []
    for name, group in keys:
        cells = []
        for card in cards:
            attribute = next((a for a in single_attributes(card) if a.name == name), None) if card else None
            cells.append(group_cell(attribute, group, metric) if attribute else None)
        lines.append(GroupLine(name, group, tuple(cells)))
    return lines


# ------------------------------------------------------------------------------------------------------ comparison


@dataclass(frozen=True)
class MetricLine:
    """One metric of two (or more) versions; ``better`` says which way is good, for the reader's guidance."""

    key: str
    values: tuple[float | None, ...]
    display: Display
    better: Direction


_MODEL_METRICS: tuple[tuple[str, Display, Direction], ...] = (
    ("auc", "number", "higher"),
    ("pr_auc", "number", "higher"),
    ("precision_at_k", "percent", "higher"),
    ("recall_at_k", "percent", "higher"),
    ("lift_at_k", "number", "higher"),
    ("brier", "number", "lower"),
    ("calibration_error", "number", "lower"),
)


def _model_metrics(card: ModelCard | None) -> ModelMetrics | None:
    return card.performance.models.get("model") if card else None


def metric_lines(cards: Sequence[ModelCard | None]) -> list[MetricLine]:
    """The model's metrics, its lift over the rule and the scorecard, and the capacity, per card."""
    lines = [
        MetricLine(
            f"metric.{name}",
            tuple(getattr(m, name) if m else None for m in map(_model_metrics, cards)),
            display,
            better,
        )
        for name, display, better in _MODEL_METRICS
    ]
    performance = [card.performance if card else None for card in cards]
    lines.append(MetricLine("metric.lift_over_rule", tuple(p.lift_over_rule if p else None for p in performance),
                            "number", "higher"))
    lines.append(MetricLine("metric.lift_over_scorecard",
                            tuple(p.lift_over_scorecard if p else None for p in performance), "number", "higher"))
    lines.append(MetricLine("metric.capacity_k", tuple(c.capacity.k if c else None for c in cards), "count", "none"))
    return lines


@dataclass(frozen=True)
class GateLine:
    attribute: str
    metric: str
    gates: tuple[GateResult | None, ...]


def gate_lines(cards: Sequence[ModelCard | None]) -> list[GateLine]:
    """One line per fairness gate found in any card, with each card's verdict."""
    keys: list[tuple[str, str]] = []
    for card in cards:
        for gate in card.fairness.gates if card else []:
            if (gate.attribute, gate.metric) not in keys:
                keys.append((gate.attribute, gate.metric))
    return [
        GateLine(
            attribute,
            metric,
            tuple(
                next((g for g in card.fairness.gates if (g.attribute, g.metric) == (attribute, metric)), None)
                if card else None
                for card in cards
            ),
        )
        for attribute, metric in keys
    ]


def primary_metric(cards: Sequence[ModelCard | None]) -> str:
    """The fairness metric the cards lead with (the first card's; recall when there is none)."""
    return next((card.fairness.primary_metric for card in cards if card), "recall")
